"""What goes in and out of a trained model and of the models inside it.

A VAE written like the Keras example is a ``keras.Model`` subclass with its own
``train_step`` and no ``call``: what it *is* lives in its ``encoder`` (an image in; the
mean, the log-variance and a sample of the latent out) and its ``decoder`` (a latent in,
an image out). A GAN's generator takes noise and returns an image, its discriminator
takes an image and returns one number. The host tells these roles apart from the shapes
recorded here (graders/roles.py); nothing here decides a role.

Shapes are per sample (the batch axis dropped), ``None`` where a dimension is free. For
Keras they are what the model was built with; for PyTorch, which declares no shapes,
the input size of the first weight layer and the output size of the last one.
"""

from __future__ import annotations

from typing import Any

MAX_PARTS = 16
MAX_TENSORS = 4

Shape = list[int | None]


def _shape(tensor: Any) -> Shape | None:
    shape = getattr(tensor, "shape", None)
    if shape is None:
        return None
    try:
        dims = list(shape)[1:]
    except TypeError:
        return None
    return [int(d) if isinstance(d, int) else None for d in dims][:4]


def _shapes(tensors: Any) -> list[Shape]:
    if tensors is None:
        return []
    if not isinstance(tensors, (list, tuple)):
        tensors = [tensors]
    return [s for t in list(tensors)[:MAX_TENSORS] if (s := _shape(t)) is not None]


def keras_signature(model: Any) -> tuple[list[Shape], list[Shape]]:
    """Input and output shapes a built Keras model declares; empty where it does not."""
    try:
        inputs, outputs = model.inputs, model.outputs
    except Exception:  # a subclassed model that was never called has neither
        return [], []
    return _shapes(inputs), _shapes(outputs)


def keras_model_class(model: Any) -> type | None:
    for klass in type(model).__mro__:
        if klass.__name__ == "Model" and "keras" in klass.__module__:
            return klass
    return None


def keras_held(model: Any) -> list[tuple[str, Any]]:
    """(name, model) of the models ``model`` holds: attributes first (``self.encoder``),
    then nested layers."""
    model_class = keras_model_class(model)
    if model_class is None:
        return []
    found: dict[int, tuple[str, Any]] = {}
    for name, value in list(vars(model).items()):
        if isinstance(value, model_class) and not name.startswith("_"):
            found.setdefault(id(value), (name, value))
    for layer in list(getattr(model, "layers", None) or []):
        if isinstance(layer, model_class):
            found.setdefault(id(layer), (str(getattr(layer, "name", "")), layer))
    return list(found.values())[:MAX_PARTS]


def keras_parts(model: Any) -> list[dict[str, Any]]:
    """Models held by ``model``, with what goes in and out of each."""
    parts = []
    for name, part in keras_held(model):
        inputs, outputs = keras_signature(part)
        try:
            params = int(part.count_params())
        except Exception:
            params = 0
        parts.append({"name": name[:200], "class_name": type(part).__name__[:200],
                      "params": params, "inputs": inputs, "outputs": outputs})
    return parts


def _torch_leaves(module: Any) -> list[Any]:
    return [m for m in module.modules() if next(m.children(), None) is None
            and any(True for _ in m.parameters(recurse=False))]


def torch_signature(module: Any) -> tuple[list[Shape], list[Shape]]:
    """The first weight layer's input size and the last one's output size."""
    leaves = _torch_leaves(module)
    if not leaves:
        return [], []
    first, last = leaves[0], leaves[-1]
    inputs = ([[int(first.in_features)]] if hasattr(first, "in_features")
              else [[int(first.in_channels), None, None]] if hasattr(first, "in_channels")
              else [])
    outputs = ([[int(last.out_features)]] if hasattr(last, "out_features")
               else [[int(last.out_channels), None, None]] if hasattr(last, "out_channels")
               else [])
    return inputs, outputs


def torch_parts(module: Any) -> list[dict[str, Any]]:
    """Direct children that are networks of their own (more than one weight layer)."""
    parts = []
    for name, child in list(module.named_children())[:64]:
        if len(_torch_leaves(child)) < 2:
            continue
        inputs, outputs = torch_signature(child)
        parts.append({"name": str(name)[:200], "class_name": type(child).__name__[:200],
                      "params": int(sum(p.numel() for p in child.parameters())),
                      "inputs": inputs, "outputs": outputs})
        if len(parts) >= MAX_PARTS:
            break
    return parts
