"""Choose how to feed raw uint8 images to a model, the way the student trained it.

Students scale (x/255, standardised, [-1, 1]) and shape (NCHW, NHWC, flat)
their inputs in their own way. Candidates are an affine map matching the
recorded training statistics plus the usual fixed scalings, in the recorded
(or declared, or any common) layout; the public calibration sample decides,
with a head start for the candidate that matches the training statistics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .state import InputStats

Predict = Callable[[np.ndarray], np.ndarray]

FIXED_SCALINGS: list[tuple[float, float]] = [
    (1 / 255, 0.0),                          # x / 255
    (1.0, 0.0),                              # raw pixel values
    (2 / 255, -1.0),                         # (x/255 - 0.5) / 0.5
    (1 / (255 * 0.3530), -0.2860 / 0.3530),  # Fashion-MNIST mean/std
    (1 / (255 * 0.3081), -0.1307 / 0.3081),  # MNIST mean/std, often copied
]
SCREEN_ROWS = 500
BATCH = 500


@dataclass
class Format:
    """A chosen input format; ``as_json`` matches ``runner.measurements.InputFormat``."""

    shape: tuple[int, ...]
    scale: float
    shift: float
    source: str
    accuracy: float | None = None

    def as_json(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"shape": [int(d) for d in self.shape], "scale": float(self.scale),
                "shift": float(self.shift), "source": self.source}


def apply(raw: np.ndarray, shape: Sequence[int], scale: float, shift: float) -> np.ndarray:
    """x' = scale * x + shift, as float32, reshaped to (n, *shape)."""
    x = raw.astype(np.float32) * np.float32(scale) + np.float32(shift)
    return x.reshape((raw.shape[0], *shape))


def outputs(predict: Predict, raw: np.ndarray, fmt: Format, num_classes: int) -> np.ndarray:
    """Model outputs (n, num_classes) for raw images, in batches; checks the shape."""
    chunks = []
    for start in range(0, len(raw), BATCH):
        batch = raw[start:start + BATCH]
        out = np.asarray(predict(apply(batch, fmt.shape, fmt.scale, fmt.shift)))
        if out.shape != (len(batch), num_classes):
            raise ValueError(f"model output has shape {tuple(out.shape)}, "
                             f"expected ({len(batch)}, {num_classes})")
        chunks.append(out)
    return np.concatenate(chunks) if chunks else np.zeros((0, num_classes), np.float32)


def classes(predict: Predict, raw: np.ndarray, fmt: Format, num_classes: int) -> np.ndarray:
    """Predicted class ids as int64."""
    return outputs(predict, raw, fmt, num_classes).argmax(axis=-1).astype(np.int64)


def _close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Same map up to 3% of its output range, comparing where it sends 0 and 255."""
    span = abs(255 * b[0]) or 1.0
    return abs(a[1] - b[1]) < 0.03 * span and abs(255 * (a[0] - b[0]) + a[1] - b[1]) < 0.03 * span


def _margin(accuracy: float, rows: int) -> float:
    """Head start of the training-statistics candidate: three standard errors, at least 5%.

    Weak ReLU networks are nearly scale-invariant, so on a few hundred images a
    wrong scaling can win by noise alone; the recorded statistics are better evidence.
    """
    return max(0.05, 3 * math.sqrt(max(accuracy * (1 - accuracy), 0.01) / max(rows, 1)))


def scalings(stats: InputStats | None, raw_mean: float, raw_std: float) -> list[Format]:
    """Candidate (scale, shift) pairs, the one matching training statistics first."""
    out: list[Format] = []
    matched = None
    if stats is not None and stats.has_moments() and raw_std > 0:
        a = float(stats.std) / raw_std
        matched = (a, float(stats.mean) - a * raw_mean)
        if not all(math.isfinite(v) for v in matched):
            matched = None
    for pair in FIXED_SCALINGS:
        if matched is not None and _close(matched, pair):
            out.insert(0, Format((), *pair, source="training-data"))
            matched = None
        else:
            out.append(Format((), *pair, source="calibrated"))
    if matched is not None:
        out.insert(0, Format((), *matched, source="training-data"))
    return out


def layouts(raw_shape: tuple[int, ...], stats: InputStats | None,
            declared: tuple[int, ...] | None) -> list[tuple[int, ...]]:
    """Per-sample shapes to try: the recorded one, else the declared one, else common ones."""
    size = math.prod(raw_shape)
    for shape in (stats.shape if stats else None, declared):
        if shape and math.prod(shape) == size:
            return [tuple(shape)]
    if len(raw_shape) != 2:
        return [raw_shape, (size,)]
    h, w = raw_shape
    return [(1, h, w), (h, w, 1), (size,), (h, w)]


def choose(predict: Predict, calib_x: np.ndarray, calib_y: np.ndarray | None, num_classes: int,
           stats: InputStats | None, declared: tuple[int, ...] | None) -> Format:
    """Best format on the calibration sample (or the likeliest one without labels)."""
    raw_values = calib_x.astype(np.float64)
    candidates = scalings(stats, float(raw_values.mean()), float(raw_values.std()))
    probe, viable, seen, errors = calib_x[:4], [], [], []
    for shape in layouts(tuple(calib_x.shape[1:]), stats, declared):
        first = Format(shape, candidates[0].scale, candidates[0].shift, "")
        try:
            out = outputs(predict, probe, first, num_classes)
        except Exception as exc:
            errors.append(f"{list(shape)}: {type(exc).__name__}: {exc}"[:300])
            continue
        if not any(np.allclose(out, other, rtol=1e-4, atol=1e-5) for other in seen):
            viable.append(shape)
            seen.append(out)
    if not viable:
        trained = f" (trained on per-sample shape {list(stats.shape)})" if stats else ""
        raise ValueError("no input layout worked" + trained + ": " + "; ".join(errors))
    if calib_y is None:
        best = candidates[0]
        source = best.source if best.source == "training-data" else "default"
        return Format(viable[0], best.scale, best.shift, source)
    screen_x, screen_y = calib_x[:SCREEN_ROWS], calib_y[:SCREEN_ROWS]
    best, best_score = None, -1.0
    for shape in viable:
        for cand in candidates:
            fmt = Format(shape, cand.scale, cand.shift, cand.source)
            try:
                score = float(np.mean(classes(predict, screen_x, fmt, num_classes) == screen_y))
            except Exception:
                continue
            if fmt.source == "training-data":
                score += _margin(score, len(screen_y))
            if score > best_score:
                best, best_score = fmt, score
    if best is None:
        raise ValueError("the model failed on every candidate input scaling")
    best.accuracy = float(np.mean(classes(predict, calib_x, best, num_classes) == calib_y))
    return best
