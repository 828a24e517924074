"""Derive an architecture summary from a framework-neutral layer list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from runner.measurements import Layer, LayerKind


@dataclass(frozen=True)
class Architecture:
    kind: str  # cnn, mlp, rnn or other
    conv_channels: tuple[int, ...]
    conv_kernels: tuple[int, ...]
    blocks: int  # conv-pool blocks: one or more convolutions closed by a pooling layer
    dense_layers: int

    @property
    def conv_layers(self) -> int:
        return len(self.conv_kernels)

    def describe(self) -> str:
        if self.kind != "cnn":
            return f"{self.kind.upper()}, {self.dense_layers} dense layers"
        channels = "/".join(map(str, self.conv_channels))
        kernels = ", ".join(map(str, self.conv_kernels))
        return f"CNN {channels} channels, kernels {kernels}, {self.blocks} conv-pool blocks"


def summarise(layers: Sequence[Layer]) -> Architecture:
    channels: list[int] = []
    kernels: list[int] = []
    blocks = dense = recurrent = 0
    open_block = False
    for layer in layers:
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
            recurrent += 1
    if kernels:
        kind = "cnn"
    elif recurrent:
        kind = "rnn"
    elif dense:
        kind = "mlp"
    else:
        kind = "other"
    return Architecture(kind, tuple(channels), tuple(kernels), blocks, dense)


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
