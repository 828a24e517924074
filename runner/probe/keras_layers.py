"""Describe a Keras model's layers in execution order.

The ``Layer.__call__`` of the model's own Keras (Keras 3 or tf_keras) is
wrapped for one call on a tiny batch; models and unknown composite layers are
transparent, known layers are recorded once (a Bidirectional's inner LSTM is
not). Without a working input the nested ``layers`` lists are walked instead.
"""

from __future__ import annotations

from typing import Any

from .kinds import int_list, kind_of_class, layer_record, shape_list, spatial_dims

MAX_LAYERS = 512


def _base(model: Any, name: str) -> type | None:
    for klass in type(model).__mro__:
        if klass.__name__ == name and "keras" in klass.__module__:
            return klass
    return None


def _sublayers(layer: Any) -> list[Any]:
    found = getattr(layer, "_layers", None)
    if found is None:
        found = getattr(layer, "layers", None)
    return [item for item in (found or []) if type(item).__name__ != "InputLayer"]


def _transparent(layer: Any, model_class: type | None) -> bool:
    if model_class is not None and isinstance(layer, model_class):
        return True
    return kind_of_class(type(layer)) is None and bool(_sublayers(layer))


def _channels(layer: Any) -> int | None:
    for attr in ("filters", "units", "output_dim"):
        value = getattr(layer, attr, None)
        if isinstance(value, int):
            return value
    forward = getattr(layer, "forward_layer", None)  # Bidirectional
    units = getattr(forward, "units", None)
    if isinstance(units, int):
        return 2 * units if getattr(layer, "merge_mode", None) == "concat" else units
    return None


def _activation(layer: Any) -> str | None:
    """Name of an activation built into the layer (``Dense(64, activation="relu")``)."""
    function = getattr(layer, "activation", None)
    if function is None or type(layer).__name__ == "Activation":
        return None
    name = getattr(function, "__name__", None) or type(function).__name__
    return str(name)[:60]


def _params(layer: Any) -> int:
    try:
        return int(layer.count_params())
    except Exception:
        return 0


def keras_layer(layer: Any, output: Any = None) -> dict[str, Any]:
    """Layer record for one Keras layer (output is what its call returned, if known)."""
    cls = type(layer)
    kind = kind_of_class(cls) or "other"
    dims = spatial_dims(cls.__name__)
    kernel = stride = None
    if kind in ("conv", "upsample"):
        kernel = int_list(getattr(layer, "kernel_size", None), dims)
        stride = int_list(getattr(layer, "strides", None), dims)
    elif kind == "pool" and not cls.__name__.startswith("Global"):
        kernel = int_list(getattr(layer, "pool_size", None), dims)
        stride = int_list(getattr(layer, "strides", None), dims) or kernel
    if isinstance(output, (list, tuple)) and output:
        output = output[0]
    shape = getattr(output, "shape", None)
    return layer_record(
        kind, cls.__name__, name=getattr(layer, "name", ""), channels=_channels(layer),
        kernel_size=kernel, stride=stride, params=_params(layer), activation=_activation(layer),
        output_shape=shape_list(tuple(shape)[1:]) if shape is not None else None)


def static_layers(model: Any) -> list[dict[str, Any]]:
    """Nested ``layers`` lists flattened in order: the fallback without a forward pass."""
    model_class = _base(model, "Model")
    out: list[dict[str, Any]] = []

    def walk(layer: Any) -> None:
        for sub in _sublayers(layer):
            if len(out) >= MAX_LAYERS:
                return
            if _transparent(sub, model_class):
                walk(sub)
            else:
                out.append(keras_layer(sub))

    walk(model)
    return out


def traced_layers(model: Any, sample: Any) -> list[dict[str, Any]]:
    """Call ``model(sample, training=False)`` once, recording layers as they run."""
    layer_class = _base(model, "Layer")
    model_class = _base(model, "Model")
    if layer_class is None:
        raise TypeError("not a Keras model")
    original = layer_class.__dict__["__call__"]
    records: list[dict[str, Any]] = []
    depth = [0]

    def traced_call(layer: Any, *args: Any, **kwargs: Any) -> Any:
        if depth[0] or _transparent(layer, model_class):
            return original(layer, *args, **kwargs)
        depth[0] += 1
        try:
            output = original(layer, *args, **kwargs)
        finally:
            depth[0] -= 1
        if len(records) < MAX_LAYERS:
            records.append(keras_layer(layer, output))
        return output

    layer_class.__call__ = traced_call
    try:
        model(sample, training=False)
    finally:
        layer_class.__call__ = original
    return records
