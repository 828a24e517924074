"""Describe a PyTorch model's layers in execution order.

One forward pass on a tiny batch, with hooks on the leaf modules and a
``TorchFunctionMode`` that sees functional calls (``F.max_pool2d``, ``F.relu``,
``x.view(n, -1)``) made outside leaf modules, so pooling written in ``forward``
counts as a layer and an ``nn.MaxPool2d`` is not counted twice.
"""

from __future__ import annotations

from typing import Any

from .kinds import int_list, kind_of_class, kind_of_function, layer_record, shape_list, spatial_dims

MAX_LAYERS = 512
_CHANNEL_ATTRS = ("out_channels", "out_features", "hidden_size", "embedding_dim", "num_features")


def _first_tensor(torch: Any, value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = _first_tensor(torch, item)
            if found is not None:
                return found
    return None


def _is_leaf(torch: Any, module: Any) -> bool:
    return next(module.children(), None) is None or isinstance(module, torch.nn.MultiheadAttention)


def _channels(module: Any) -> int | None:
    for attr in _CHANNEL_ATTRS:
        value = getattr(module, attr, None)
        if isinstance(value, int):
            if attr == "hidden_size" and getattr(module, "bidirectional", False):
                return 2 * value
            return value
    return None


def module_layer(torch: Any, module: Any, name: str, output: Any = None) -> dict[str, Any]:
    """Layer record for one leaf module (output is what it returned, if known)."""
    cls = type(module)
    kind = kind_of_class(cls) or "other"
    dims = spatial_dims(cls.__name__)
    kernel = int_list(getattr(module, "kernel_size", None), dims)
    stride = getattr(module, "stride", None)
    stride = int_list(stride, dims) if stride not in (None, (), []) else kernel
    if kind not in ("conv", "pool", "upsample"):
        kernel = stride = None
    tensor = _first_tensor(torch, output)
    return layer_record(
        kind, cls.__name__, name=name, channels=_channels(module), kernel_size=kernel,
        stride=stride, params=sum(p.numel() for p in module.parameters()),
        output_shape=shape_list(tensor.shape[1:]) if tensor is not None else None)


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, key: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(key)


def functional_layer(torch: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                     output: Any) -> dict[str, Any] | None:
    """Layer record for a functional call outside leaf modules, or None if not layer-like."""
    kind = kind_of_function(name)
    tensor = _first_tensor(torch, output)
    source = args[0] if args and isinstance(args[0], torch.Tensor) else None
    if (kind is None and name in ("view", "reshape") and tensor is not None
            and source is not None and source.dim() > 2 and tensor.dim() == 2
            and tensor.shape[0] == source.shape[0]):
        kind = "flatten"
    if kind is None:
        return None
    dims = spatial_dims(name)
    channels = kernel = stride = None
    if kind == "pool" and "adaptive" not in name:
        kernel = int_list(_arg(args, kwargs, 1, "kernel_size"), dims)
        stride = int_list(_arg(args, kwargs, 2, "stride"), dims) or kernel
    elif kind in ("conv", "dense") or name.startswith("conv_transpose"):
        weight = _arg(args, kwargs, 1, "weight")
        if isinstance(weight, torch.Tensor) and weight.dim() >= 2:
            channels = int(weight.shape[1] if "transpose" in name else weight.shape[0])
            if kind != "dense":
                kernel = [int(d) for d in weight.shape[2:]]
                stride = int_list(_arg(args, kwargs, 3, "stride") or 1, dims)
    return layer_record(kind, name, channels=channels, kernel_size=kernel, stride=stride,
                        output_shape=shape_list(tensor.shape[1:]) if tensor is not None else None)


def static_layers(torch: Any, model: Any) -> list[dict[str, Any]]:
    """Leaf modules in registration order: the fallback when no forward pass works."""
    return [module_layer(torch, m, n) for n, m in model.named_modules()
            if _is_leaf(torch, m)][:MAX_LAYERS]


def traced_layers(torch: Any, model: Any, sample: Any) -> list[dict[str, Any]]:
    """Run ``model(sample)`` once (no grad) and return its layers in execution order."""
    from torch.overrides import TorchFunctionMode

    names = {id(m): n for n, m in model.named_modules()}
    records: list[dict[str, Any]] = []
    depth = [0]

    def pre(module: Any, args: Any) -> None:
        depth[0] += 1

    def post(module: Any, args: Any, output: Any) -> None:
        depth[0] -= 1
        if depth[0] == 0 and len(records) < MAX_LAYERS:
            records.append(module_layer(torch, module, names.get(id(module), ""), output))

    class _Functional(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            output = func(*args, **kwargs)
            if depth[0] == 0 and len(records) < MAX_LAYERS:
                record = functional_layer(torch, getattr(func, "__name__", ""), tuple(args),
                                          kwargs, output)
                if record is not None:
                    records.append(record)
            return output

    handles = []
    try:
        for module in model.modules():
            if _is_leaf(torch, module):
                handles.append(module.register_forward_pre_hook(pre))
                handles.append(module.register_forward_hook(post, always_call=True))
        with torch.no_grad(), _Functional():
            model(sample)
    finally:
        for handle in handles:
            handle.remove()
    return records
