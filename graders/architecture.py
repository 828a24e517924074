"""Derive an architecture summary from a framework-neutral layer list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from runner.i18n.message import Message, msg
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
    downsamplings: int = 0  # pooling layers and strided convolutions
    upsamplings: int = 0  # upsampling layers and transposed convolutions
    skip_connections: int = 0  # merges (concatenations, sums) of two computed branches

    @property
    def linear(self) -> bool:
        """A single affine map of the input: no non-linearity between weight layers."""
        return self.kind in ("mlp", "other") and self.hidden_nonlinearities == 0

    @property
    def conv_layers(self) -> int:
        return len(self.conv_kernels)

    def describe(self) -> Message:
        """The architecture in words: "CNN 32/64 channels, kernels 5, 3, 2 conv-pool
        blocks" (``arch.*``)."""
        if self.kind == "mlp" and self.linear:
            return msg("arch.linear", n=self.dense_layers)
        if self.kind == "encoder_decoder":
            return msg("arch.encoder_decoder",
                       down=msg("arch.downsamplings", n=self.downsamplings),
                       up=msg("arch.upsamplings", n=self.upsamplings),
                       skips=msg("arch.skip_connections", n=self.skip_connections),
                       channels=[str(c) for c in self.conv_channels])
        dense = msg("arch.dense_layers", n=self.dense_layers)
        if self.kind == "rnn":
            return msg("arch.rnn", layers=list(self.recurrent), dense=dense)
        if self.kind != "cnn":
            kind = msg(f"arch.kind.{self.kind}") if self.kind in ("mlp", "other") \
                else self.kind.upper()
            if self.hidden_nonlinearities:
                return msg("arch.dense.hidden", kind=kind, dense=dense, hidden=msg(
                    "arch.hidden_nonlinearities", n=self.hidden_nonlinearities))
            return msg("arch.dense", kind=kind, dense=dense)
        return msg("arch.cnn", channels=[str(c) for c in self.conv_channels],
                   kernels=[str(k) for k in self.conv_kernels], n=self.blocks)


def _upsamples(layer: Layer, after_resize: bool) -> bool:
    """Whether an upsample layer raises the resolution by a step of its own.

    A transposed convolution does when its stride is over 1 (a stride-1 one is a
    convolution); a resize does unless it continues one (an exported ``UpSampling2D``
    repeats the rows, then the columns)."""
    if layer.kernel_size is not None:
        return any(s > 1 for s in layer.stride or ())
    return not after_resize


def summarise(layers: Sequence[Layer]) -> Architecture:
    channels: list[int] = []
    kernels: list[int] = []
    blocks = dense = hidden = down = up = skips = 0
    decoder_after_encoder = False
    after_resize = False
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
        if layer.kind is LayerKind.pool or (layer.kind is LayerKind.conv and any(
                s > 1 for s in layer.stride or ())):
            down += 1
        elif layer.kind is LayerKind.upsample:
            step = _upsamples(layer, after_resize)
            up += step
            decoder_after_encoder = decoder_after_encoder or (step and down > 0)
        elif layer.kind is LayerKind.merge:
            skips += 1
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
        after_resize = layer.kind is LayerKind.upsample and layer.kernel_size is None
    if decoder_after_encoder:
        kind = "encoder_decoder"  # sizes go down, then up again: U-Net, autoencoders
    elif kernels:
        kind = "cnn"
    elif recurrent:
        kind = "rnn"
    elif dense:
        kind = "mlp"
    else:
        kind = "other"
    return Architecture(kind, tuple(channels), tuple(kernels), blocks, dense, hidden,
                        tuple(layer.type for layer in layers), tuple(recurrent[:8]),
                        down, up, skips)


def kernel_order_problem(kernels: Sequence[int], order: str) -> Message | None:
    """Why ``kernels`` break the rule ``order`` (falling, non_increasing, any), or None."""
    if order == "any" or not kernels:
        return None
    listed = [str(kernel) for kernel in kernels]
    if any(later > earlier for earlier, later in pairwise(kernels)):
        return msg("arch.kernels.grow", kernels=listed, wanted=msg("arch.kernels.wanted"))
    if order == "falling" and len(set(kernels)) == 1:
        return msg("arch.kernels.same", kernels=listed, wanted=msg("arch.kernels.wanted"))
    return None
