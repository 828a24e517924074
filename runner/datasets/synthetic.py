"""Generated datasets of nngrade's own, for tasks no dataset on this machine has.

``make_textured_shapes``: a segmentation task that a threshold cannot solve and a small
U-Net can. Each image is a grey field lit unevenly (a random linear gradient plus smooth
blotches) with fine sensor noise; on it lie one to three ellipses filled not with
another brightness but with a *texture*: stripes of random orientation and period
(3–6 px) around the very brightness the field has there. Mean intensity says nothing
about where an object is, so the best global threshold marks little better than chance;
the stripes are a local pattern two or three convolutions see at once. The mask is 1
inside an ellipse, 0 elsewhere.

It follows the ``make_*(n_samples, random_state, **params) -> (inputs, targets)``
convention of ``sklearn.datasets`` so a dataset file names it as its generator.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def make_textured_shapes(n_samples: int = 100, random_state: int | np.random.RandomState
                         | None = None, size: int = 64, max_shapes: int = 3,
                         contrast: float = 0.18, noise: float = 0.04
                         ) -> tuple[np.ndarray, np.ndarray]:
    """``(images, masks)``: images (n, size, size, 1) float32 in 0..1, masks (n, size,
    size) int64 with 1 inside an object. Same ``random_state``, same samples."""
    rng = np.random.default_rng(_seed(random_state))
    images = np.empty((n_samples, size, size, 1), np.float32)
    masks = np.zeros((n_samples, size, size), np.int64)
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    for i in range(n_samples):
        field = _field(rng, rows, cols, size)
        mask = np.zeros((size, size), bool)
        for _ in range(int(rng.integers(1, max_shapes + 1))):
            mask |= _ellipse(rng, rows, cols, size)
        angle, period = rng.uniform(0, np.pi), rng.uniform(3.0, 6.0)
        phase = rng.uniform(0, 2 * np.pi)
        stripes = np.sin(2 * np.pi * (rows * np.sin(angle) + cols * np.cos(angle)) / period
                         + phase)
        image = field + np.where(mask, contrast * stripes, 0.0)
        image += rng.normal(0.0, noise, image.shape)
        images[i, ..., 0] = np.clip(image, 0.0, 1.0)
        masks[i] = mask
    return images, masks


def _seed(random_state: int | np.random.RandomState | None) -> int | None:
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return random_state


def _field(rng: np.random.Generator, rows: np.ndarray, cols: np.ndarray, size: int
           ) -> np.ndarray:
    """Uneven light: a gradient across the image and smooth blotches, between 0.2 and 0.8."""
    angle = rng.uniform(0, 2 * np.pi)
    gradient = (rows * np.sin(angle) + cols * np.cos(angle)) / size
    blotches = ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), sigma=size / 8)
    blotches /= np.abs(blotches).max() or 1.0
    field = rng.uniform(0.25, 0.4) * gradient + 0.15 * blotches
    field -= field.min()
    return 0.2 + 0.6 * field / (field.max() or 1.0)


def _ellipse(rng: np.random.Generator, rows: np.ndarray, cols: np.ndarray, size: int
             ) -> np.ndarray:
    centre = rng.uniform(0.2 * size, 0.8 * size, 2)
    axes = rng.uniform(0.12 * size, 0.28 * size, 2)
    turn = rng.uniform(0, np.pi)
    dr, dc = rows - centre[0], cols - centre[1]
    along = dr * np.cos(turn) + dc * np.sin(turn)
    across = -dr * np.sin(turn) + dc * np.cos(turn)
    return (along / axes[0]) ** 2 + (across / axes[1]) ** 2 <= 1.0
