"""What the parts of a generative model produce, read as images on one scale.

A decoder (a VAE's, a GAN's generator) turns a latent vector into an image. Students
end it with a sigmoid (0..1), a tanh (-1..1) or nothing, and lay the image out as
(H, W), (H, W, C), (C, H, W) or flat; :func:`as_images` reads any of these as
(n, H, W[, C]) on 0..1, the scale told from the outputs themselves. A reconstruction
goes through the bottleneck (:func:`through_bottleneck`): the encoder's first output,
a VAE's mean, into the decoder, so a network that copies its input has nothing to
reconstruct with. Decoders are sampled from noise the host draws from a seed it keeps
(:func:`latent_noise`). Plain NumPy: the same code reads exported graphs in the clean
room and live models in the student's kernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

Predict = Callable[[np.ndarray], object]

TANH_BELOW = -0.5
"""Outputs whose 1st percentile is below this are a tanh's, read as (x + 1) / 2: a
decoder trained on 0..1 without an activation rarely goes that far below zero."""
BYTES_ABOVE = 2.0
"""Outputs whose 99th percentile is above this are on the 0..255 scale."""


def latent_noise(count: int, latent: int, seed: int) -> np.ndarray:
    """``count`` standard normal vectors of ``latent`` values, float32, from ``seed``."""
    return np.random.default_rng(seed).standard_normal((count, latent)).astype(np.float32)


def output_scale(values: np.ndarray) -> tuple[float, float]:
    """(scale, shift) that bring a decoder's outputs to 0..1: tanh, 0..255 or as they are."""
    if values.size == 0:
        return 1.0, 0.0
    low, high = np.percentile(values, [1, 99])
    if low < TANH_BELOW:
        return 0.5, 0.5
    if high > BYTES_ABOVE:
        return 1 / 255, 0.0
    return 1.0, 0.0


def as_images(outputs: np.ndarray, image_shape: Sequence[int]) -> np.ndarray:
    """Decoder outputs as images of ``image_shape`` ((H, W) or (H, W, C)) on 0..1.

    Per sample the outputs may be (H, W), (H, W, C), (C, H, W) or flat (channels last).
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    h, w = int(image_shape[0]), int(image_shape[1])
    c = int(image_shape[2]) if len(image_shape) == 3 else 1
    n, sample = len(outputs), tuple(outputs.shape[1:])
    if sample in ((h, w), (h, w, c), (h * w * c,)):
        images = outputs.reshape(n, h, w, c)
    elif sample == (c, h, w):
        images = np.moveaxis(outputs, 1, -1)
    else:
        raise ValueError(f"the decoder's output has per-sample shape {list(sample)}; an "
                         f"image of {h}x{w}x{c} needs ({h}, {w}), ({h}, {w}, {c}), "
                         f"({c}, {h}, {w}) or {math.prod((h, w, c))} values")
    scale, shift = output_scale(images)
    images = np.clip(images * scale + shift, 0.0, 1.0)
    return images if len(image_shape) == 3 else images[..., 0]


def first_output(outputs: object) -> np.ndarray:
    """An encoder's first output (a VAE's mean), whether it returns one array or several."""
    if isinstance(outputs, list | tuple):
        if not outputs:
            raise ValueError("the encoder returned nothing")
        outputs = outputs[0]
    return np.asarray(outputs, dtype=np.float32)


def through_bottleneck(encode: Predict, decode: Predict, inputs: np.ndarray) -> np.ndarray:
    """The decoder's outputs for the encoder's first output on ``inputs``."""
    codes = first_output(encode(inputs))
    if codes.ndim != 2 or len(codes) != len(inputs):
        raise ValueError(f"the encoder's first output has shape {list(codes.shape)}; a "
                         f"latent vector per input was expected")
    return np.asarray(decode(codes))


BATCH = 500
SCALINGS = ((1 / 255, 0.0), (2 / 255, -1.0), (1.0, 0.0))
"""Input scalings an encoder is tried with, on raw 0..255 pixels: 0..1, -1..1, as they are."""


def batched(predict: Predict, inputs: np.ndarray, first_only: bool = True) -> np.ndarray:
    """``predict`` over ``inputs`` in batches of ``BATCH``; the first output of each call."""
    parts = []
    for start in range(0, len(inputs), BATCH):
        out = predict(inputs[start:start + BATCH])
        parts.append(first_output(out) if first_only else np.asarray(out))
    return np.concatenate(parts) if parts else np.zeros((0,), np.float32)


def laid_out(images: np.ndarray, layout: Sequence[int]) -> np.ndarray:
    """Images (n, H, W[, C]) in a part's per-sample ``layout``: channels first when it
    starts with the channel count, else the same values reshaped (flat, or channels last)."""
    images = np.asarray(images, np.float32)
    channels = images.shape[3] if images.ndim == 4 else 1
    if len(layout) == 3 and layout[0] == channels and channels > 1:
        images = np.moveaxis(images, -1, 1)
    return np.ascontiguousarray(images.reshape(len(images), *layout))


def samples_from(decode: Predict, layout: Sequence[int], count: int, seed: int,
                 image_shape: Sequence[int]) -> np.ndarray:
    """``count`` images on 0..1 the decoder makes of the host's noise, laid out as it takes
    it ((L,), or (L, 1, 1) for a DCGAN generator)."""
    latent = math.prod(layout)
    noise = latent_noise(count, latent, seed).reshape(count, *layout)
    return as_images(batched(decode, noise, first_only=False), image_shape)


def reconstructions(encode: Predict, decode: Predict, layout: Sequence[int],
                    calibration: np.ndarray, hidden: np.ndarray,
                    image_shape: Sequence[int]) -> tuple[np.ndarray, float]:
    """The hidden images on 0..1 as the decoder rebuilds them from the encoder's first
    output, with the input scaling that rebuilds the public calibration images best;
    and that scaling's RMSE on them."""
    target = calibration.astype(np.float64) / 255
    best: tuple[float, float, float] | None = None
    for scale, shift in SCALINGS:
        try:
            rebuilt = _rebuilt(encode, decode, calibration, scale, shift, layout, image_shape)
        except Exception:  # a scaling the graph cannot take (NaNs, overflow)
            continue
        error = float(np.sqrt(np.mean((rebuilt - target.reshape(rebuilt.shape)) ** 2)))
        if np.isfinite(error) and (best is None or error < best[0]):
            best = (error, scale, shift)
    if best is None:
        raise ValueError("the encoder and decoder rebuild no public image under any scaling")
    error, scale, shift = best
    return _rebuilt(encode, decode, hidden, scale, shift, layout, image_shape), error


def _rebuilt(encode: Predict, decode: Predict, images: np.ndarray, scale: float,
             shift: float, layout: Sequence[int], image_shape: Sequence[int]) -> np.ndarray:
    inputs = laid_out(images.astype(np.float32) * scale + shift, layout)
    outputs = through_bottleneck(lambda x: batched(encode, x),
                                 lambda z: batched(decode, z, first_only=False), inputs)
    return as_images(outputs, image_shape)
