"""Small images a report shows: hidden inputs beside their true and predicted masks.

The grader draws them itself, on the host, from arrays it holds (the hidden inputs and
masks) and from a model's predictions read back as plain class ids; nothing the
sandbox wrote is shown as an image. A grid is one PNG, kept in the report as base64,
so the HTML report stays a single file that loads nothing.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from runner.report.model import ImageGrid

SHOWN_IMAGES = 8
"""Images in a grid's row."""
GAP = 2
SCALE = 2  # 64 px images are drawn at 128 px
RIGHT, FALSE_MARK, MISSED, BACKGROUND = (255, 255, 255), (229, 62, 62), (49, 130, 206), (0, 0, 0)


def segmentation_grid(inputs: np.ndarray, truth: np.ndarray, predicted: np.ndarray,
                      model: str) -> ImageGrid:
    """Rows: the hidden inputs, their true masks, and ``model``'s masks coloured by
    agreement (white right, red marked but background, blue object missed)."""
    n = min(SHOWN_IMAGES, len(inputs), len(truth), len(predicted))
    images = [_grey(inputs[i]) for i in range(n)]
    true_rows = [_mask(truth[i] > 0, truth[i] > 0) for i in range(n)]
    predicted_rows = [_mask(predicted[i] > 0, truth[i] > 0) for i in range(n)]
    return ImageGrid(key="segmentation", model=model, rows=["input", "truth", "predicted"],
                     png=_encode([images, true_rows, predicted_rows]))


def _grey(image: np.ndarray) -> np.ndarray:
    """An input as RGB bytes, its own range stretched to 0..255 (a colour image as it is)."""
    x = np.asarray(image, np.float64)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    low, high = float(x.min(initial=0)), float(x.max(initial=1))
    x = np.clip((x - low) / ((high - low) or 1.0), 0, 1)
    pixels = np.rint(255 * x).astype(np.uint8)
    return pixels if pixels.ndim == 3 else np.repeat(pixels[..., None], 3, axis=-1)


def _mask(marked: np.ndarray, objects: np.ndarray) -> np.ndarray:
    out = np.zeros((*marked.shape, 3), np.uint8)
    out[marked & objects] = RIGHT
    out[marked & ~objects] = FALSE_MARK
    out[~marked & objects] = MISSED
    return out


def _encode(rows: list[list[np.ndarray]]) -> str:
    """Rows of equal-sized RGB images, tiled on white with gaps, as base64 PNG."""
    height, width = rows[0][0].shape[:2]
    columns = max(len(row) for row in rows)
    canvas = np.full((len(rows) * (height + GAP) - GAP, columns * (width + GAP) - GAP, 3),
                     255, np.uint8)
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            top, left = r * (height + GAP), c * (width + GAP)
            canvas[top:top + height, left:left + width] = image
    canvas = canvas.repeat(SCALE, axis=0).repeat(SCALE, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


SAMPLE_ROWS = 2


def samples_grid(samples: np.ndarray, model: str) -> ImageGrid:
    """Two rows of a generator's samples of the grader's noise (8-bit images)."""
    n = min(SHOWN_IMAGES * SAMPLE_ROWS, len(samples))
    images = [_grey_fixed(samples[i]) for i in range(n)]
    rows = [images[start:start + SHOWN_IMAGES] for start in range(0, n, SHOWN_IMAGES)]
    return ImageGrid(key="samples", model=model, rows=["sample"] * len(rows),
                     png=_encode(rows))


def reconstruction_grid(hidden: np.ndarray, rebuilt: np.ndarray, model: str) -> ImageGrid:
    """Hidden images above the same images as ``model`` rebuilt them (8-bit images)."""
    n = min(SHOWN_IMAGES, len(hidden), len(rebuilt))
    return ImageGrid(key="reconstructions", model=model, rows=["input", "reconstruction"],
                     png=_encode([[_grey_fixed(hidden[i]) for i in range(n)],
                                  [_grey_fixed(rebuilt[i]) for i in range(n)]]))


def _grey_fixed(image: np.ndarray) -> np.ndarray:
    """An 8-bit grey image as RGB bytes, unstretched: a faint sample must look faint."""
    pixels = np.asarray(image, np.uint8)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    return np.repeat(pixels[..., None], 3, axis=-1)
