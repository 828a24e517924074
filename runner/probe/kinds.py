"""Framework-neutral layer kinds, so the host can check an architecture by role.

Names are matched, not classes, so the mapping works for PyTorch, Keras 3 and
tf_keras alike without importing any of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_CLASS_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("recurrent", re.compile(r"^(ConvLSTM\d[dD]|(Simple)?RNN(Base|Cell)?|LSTM(Cell)?|GRU(Cell)?"
                             r"|Bidirectional|StackedRNNCells|(Simple|LSTM|GRU)RNNCell)$")),
    ("pool", re.compile(r"Pool(ing)?(\d[dD])?$")),
    ("upsample", re.compile(r"^(UpSampling\d[dD]|Upsample|Upsampling(Nearest|Bilinear)2d"
                            r"|(Lazy)?ConvTranspose\d[dD]|Conv\d[dD]Transpose|Resizing"
                            r"|PixelShuffle)$")),
    ("merge", re.compile(r"^(Concatenate|Add|Average|Multiply|Subtract|Maximum|Minimum)$")),
    ("conv", re.compile(r"^(Lazy)?(Separable|Depthwise)?Conv\d[dD]$")),
    ("dense", re.compile(r"^(Lazy)?(Linear|Bilinear|Dense|EinsumDense)$"
                         r"|^NonDynamicallyQuantizableLinear$")),
    ("dropout", re.compile(r"Dropout(\d[dD])?$")),
    ("norm", re.compile(r"^(Lazy)?(Batch|Layer|Group|Instance|Unit|Spectral|RMS)Norm(alization)?"
                        r"(\d[dD])?$|^LocalResponseNorm$|^RMSNorm$")),
    ("embedding", re.compile(r"^Embedding(Bag)?$")),
    ("flatten", re.compile(r"^Flatten$")),
    ("activation", re.compile(r"^(Activation|Softmax2?d?|LogSoftmax|Softmin|Softplus|Softsign"
                              r"|Sigmoid|LogSigmoid|Hard\w+|Tanh|Tanhshrink|[CS]?ELU|GELU"
                              r"|ReLU6?|LeakyReLU|PReLU|RReLU|ThresholdedReLU|SiLU|Swish|Mish"
                              r"|GLU|Threshold)$")),
]

_FUNCTION_KINDS: dict[str, str] = {}
for _kind, _names in {
    "pool": "max_pool1d max_pool2d max_pool3d avg_pool1d avg_pool2d avg_pool3d "
            "adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d adaptive_avg_pool1d "
            "adaptive_avg_pool2d adaptive_avg_pool3d lp_pool1d lp_pool2d lp_pool3d "
            "max_pool1d_with_indices max_pool2d_with_indices max_pool3d_with_indices "
            "fractional_max_pool2d fractional_max_pool3d",
    "conv": "conv1d conv2d conv3d",
    "upsample": "conv_transpose1d conv_transpose2d conv_transpose3d interpolate upsample "
                "upsample_nearest upsample_bilinear pixel_shuffle",
    "merge": "cat concat concatenate",
    "dense": "linear bilinear",
    "activation": "relu relu_ relu6 leaky_relu leaky_relu_ gelu sigmoid tanh softmax log_softmax "
                  "elu elu_ selu silu mish hardtanh softplus softsign hardswish hardsigmoid",
    "dropout": "dropout dropout1d dropout2d dropout3d alpha_dropout feature_alpha_dropout",
    "norm": "batch_norm layer_norm group_norm instance_norm rms_norm local_response_norm",
    "flatten": "flatten",
    "embedding": "embedding embedding_bag",
}.items():
    for _name in _names.split():
        _FUNCTION_KINDS[_name] = _kind


def kind_of_class(cls: type) -> str | None:
    """Kind of a layer class, trying its base classes too; None if unknown."""
    for klass in cls.__mro__:
        for kind, pattern in _CLASS_RULES:
            if pattern.search(klass.__name__):
                return kind
    return None


def kind_of_function(name: str) -> str | None:
    """Kind of a functional call such as ``F.max_pool2d``; None if not a layer-like op."""
    return _FUNCTION_KINDS.get(name)


def int_list(value: Any, dims: int | None = None) -> list[int] | None:
    """Normalise 2, (2, 2) or [2] to a list of ints, expanding a scalar to ``dims`` entries."""
    if value is None:
        return None
    if isinstance(value, int):
        return [value] * (dims or 1)
    try:
        items = [int(v) for v in value]
    except (TypeError, ValueError):
        return None
    return items[:4] or None


def spatial_dims(name: str) -> int | None:
    """2 for ``Conv2d`` / ``max_pool2d`` style names, else None."""
    match = re.search(r"(\d)[dD]", name)
    return int(match.group(1)) if match else None


def shape_list(shape: Iterable[Any] | None) -> list[int | None] | None:
    """Per-sample output shape as JSON-ready ints (None for unknown dims)."""
    if shape is None:
        return None
    out: list[int | None] = []
    for dim in shape:
        try:
            out.append(None if dim is None else int(dim))
        except (TypeError, ValueError):
            out.append(None)
    return out[:8]


def layer_record(kind: str, type_name: str, **fields: Any) -> dict[str, Any]:
    """A layer dict in the shape of ``runner.measurements.Layer``, trimmed to its limits."""
    record: dict[str, Any] = {"kind": kind or "other", "type": str(type_name)[:200]}
    for key in ("name", "channels", "kernel_size", "stride", "params", "output_shape",
                "activation"):
        value = fields.get(key)
        if value is None:
            continue
        if key == "name":
            value = str(value)[:200]
        elif key == "activation":
            value = str(value)[:60]
        elif key in ("channels", "params"):
            value = max(0, int(value))
        record[key] = value
    return record
