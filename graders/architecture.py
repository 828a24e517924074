"""Derive an architecture summary from a framework-neutral layer list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from runner.measurements import Layer, LayerKind

# Non-linear steps a layer list can hold between two weight layers.
_NONLINEAR_KINDS = (LayerKind.activation, LayerKind.pool, LayerKind.recurrent)
_WEIGHT_KINDS = (LayerKind.conv, LayerKind.dense, LayerKind.recurrent)


@dataclass(frozen=True)
class Architecture:
    kind: str  # cnn, mlp, rnn or other
    conv_channels: tuple[int, ...]
    conv_kernels: tuple[int, ...]
    blocks: int  # conv-pool blocks: one or more convolutions closed by a pooling layer
    dense_layers: int
    hidden_nonlinearities: int = 0  # non-linear steps between two weight layers
    layer_types: tuple[str, ...] = ()  # framework class names, in execution order
    recurrent: tuple[str, ...] = ()  # recurrent layers with their units, e.g. LSTM(64)

    @property
    def linear(self) -> bool:
        """A single affine map of the input: no non-linearity between weight layers."""
        return self.kind in ("mlp", "other") and self.hidden_nonlinearities == 0

    @property
    def conv_layers(self) -> int:
        return len(self.conv_kernels)

    def describe(self) -> str:
        if self.kind == "mlp" and self.linear:
            return f"linear model, {self.dense_layers} dense layer(s), no hidden non-linearity"
        dense = f"{self.dense_layers} dense layer{'' if self.dense_layers == 1 else 's'}"
        if self.kind == "rnn":
            return f"RNN: {', '.join(self.recurrent)}, then {dense}"
        if self.kind != "cnn":
            hidden = (f", {self.hidden_nonlinearities} hidden non-linearit"
                      f"{'y' if self.hidden_nonlinearities == 1 else 'ies'}"
                      if self.hidden_nonlinearities else "")
            return f"{self.kind.upper()}, {dense}{hidden}"
        channels = "/".join(map(str, self.conv_channels))
        kernels = ", ".join(map(str, self.conv_kernels))
        return f"CNN {channels} channels, kernels {kernels}, {self.blocks} conv-pool blocks"


def summarise(layers: Sequence[Layer]) -> Architecture:
    channels: list[int] = []
    kernels: list[int] = []
    blocks = dense = hidden = 0
    recurrent: list[str] = []
    open_block = False
    weights_seen = nonlinear_since = False
    for layer in layers:
        if layer.kind in _WEIGHT_KINDS:
            if weights_seen and nonlinear_since:
                hidden += 1
            weights_seen, nonlinear_since = True, False
        if layer.kind in _NONLINEAR_KINDS or (layer.activation or "linear") != "linear":
            nonlinear_since = nonlinear_since or weights_seen
        if layer.kind is LayerKind.conv:
            channels.append(layer.channels or 0)
            kernels.append(max(layer.kernel_size) if layer.kernel_size else 1)
            open_block = True
        elif layer.kind is LayerKind.pool and open_block:
            blocks += 1
            open_block = False
        elif layer.kind is LayerKind.dense:
            dense += 1
        elif layer.kind is LayerKind.recurrent:
            recurrent.append(layer.type + (f"({layer.channels})" if layer.channels else ""))
    if kernels:
        kind = "cnn"
    elif recurrent:
        kind = "rnn"
    elif dense:
        kind = "mlp"
    else:
        kind = "other"
    return Architecture(kind, tuple(channels), tuple(kernels), blocks, dense, hidden,
                        tuple(layer.type for layer in layers), tuple(recurrent[:8]))


def kernel_order_problem(kernels: Sequence[int], order: str) -> str | None:
    """Why ``kernels`` break the rule ``order`` (falling, non_increasing, any), or None."""
    if order == "any" or not kernels:
        return None
    listed = ", ".join(map(str, kernels))
    wanted = "the task asks for kernels that shrink with depth"
    if any(later > earlier for earlier, later in pairwise(kernels)):
        return f"kernel sizes {listed} grow somewhere: {wanted}"
    if order == "falling" and len(set(kernels)) == 1:
        return f"kernel sizes {listed}: {wanted}"
    return None
