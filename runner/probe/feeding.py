"""Choose how to feed raw inputs to a model, the way the student trained it.

Students scale (x/255, standardised per channel or feature, [-1, 1], min-max)
and lay out (NCHW, NHWC, flat) their inputs in their own way, and read class
ids from their outputs in their own way (argmax, or a threshold on one
sigmoid or logit column). A segmentation model does the same for every pixel:
given the mask's ``pixels`` (H, W), its outputs are read per pixel, with the
classes on the last axis (Keras) or the first (PyTorch), or one score a pixel.

Candidates are an affine map matching the recorded training statistics plus
the usual scalings of the dataset's kind, in the recorded (or declared, or any
common) layout; the public calibration sample decides, with a head start for
the candidate that matches the training statistics. Nothing here knows a
particular dataset: value ranges and common normalisations come from the
dataset file through the probe's configuration.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .state import InputStats

Predict = Callable[[np.ndarray], np.ndarray]

SCREEN_ROWS = 500
BATCH = 500
ARGMAX = "argmax"
THRESHOLDS = {"threshold 0.5": 0.5, "threshold 0": 0.0}


@dataclass
class Layout:
    """Raw sample -> model sample: optional axis order, then a reshape."""

    shape: tuple[int, ...]
    transpose: tuple[int, ...] | None = None


@dataclass
class Format:
    """A chosen input format; ``as_json`` matches ``runner.measurements.InputFormat``."""

    layout: Layout
    scale: np.ndarray  # one entry, or one per channel (the raw sample's last axis)
    shift: np.ndarray
    source: str
    decision: str = ARGMAX
    accuracy: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.layout.shape

    def as_json(self) -> dict[str, object]:
        """JSON-ready form."""
        def numbers(values: np.ndarray) -> float | list[float]:
            flat = [float(v) for v in np.ravel(values)]
            return flat[0] if len(flat) == 1 else flat

        record: dict[str, object] = {
            "shape": [int(d) for d in self.layout.shape], "scale": numbers(self.scale),
            "shift": numbers(self.shift), "source": self.source, "decision": self.decision}
        if self.layout.transpose is not None:
            record["transpose"] = list(self.layout.transpose)
        if self.decision in THRESHOLDS:
            record["threshold"] = THRESHOLDS[self.decision]
        return record


def apply(raw: np.ndarray, fmt: Format) -> np.ndarray:
    """x' = scale * x + shift per channel, as float32, then laid out as the model wants."""
    x = raw.astype(np.float32) * fmt.scale.astype(np.float32) + fmt.shift.astype(np.float32)
    if fmt.layout.transpose is not None:
        x = x.transpose((0, *(axis + 1 for axis in fmt.layout.transpose)))
    return np.ascontiguousarray(x).reshape((raw.shape[0], *fmt.layout.shape))


def outputs(predict: Predict, raw: np.ndarray, fmt: Format,
            pixels: tuple[int, int] | None = None) -> np.ndarray:
    """Model outputs as (n, k) for raw inputs, in batches; with ``pixels``, as
    (n, H, W, k): k scores for every pixel of the mask."""
    chunks = []
    for start in range(0, len(raw), BATCH):
        batch = raw[start:start + BATCH]
        out = np.asarray(predict(apply(batch, fmt)))
        if out.ndim < 1 or out.shape[0] != len(batch):
            raise ValueError(f"model output has shape {tuple(out.shape)} for a batch of "
                             f"{len(batch)}")
        if pixels is not None:
            chunks.append(pixel_scores(out, pixels))
            continue
        if out.ndim == 1:
            out = out[:, None]
        if out.ndim != 2:
            raise ValueError(f"model output has shape {tuple(out.shape)}, expected "
                             f"({len(batch)}, classes)")
        chunks.append(out)
    if chunks:
        return np.concatenate(chunks)
    return np.zeros((0, *(pixels or ()), 1), np.float32)


def pixel_scores(out: np.ndarray, pixels: tuple[int, int]) -> np.ndarray:
    """(n, H, W, k) from per-sample outputs (H, W), (H, W, k), (k, H, W) or (H*W[, k])."""
    sample, (h, w) = tuple(out.shape[1:]), pixels
    if sample in ((h, w), (h * w,)):
        return out.reshape(len(out), h, w, 1)
    if len(sample) == 3 and sample[:2] == (h, w):
        return out
    if len(sample) == 3 and sample[1:] == (h, w):
        return np.moveaxis(out, 1, -1)
    if len(sample) == 2 and sample[0] == h * w:
        return out.reshape(len(out), h, w, sample[1])
    raise ValueError(f"model output has per-sample shape {list(sample)}; a mask of {h}x{w} "
                     f"pixels needs ({h}, {w}), ({h}, {w}, classes) or (classes, {h}, {w})")


def decisions(columns: int, num_classes: int) -> list[str]:
    """Ways to read class ids from ``columns`` output columns."""
    if columns == num_classes and columns > 1:
        return [ARGMAX]
    if columns == 1 and num_classes == 2:
        return list(THRESHOLDS)
    raise ValueError(f"the model has {columns} outputs per sample; the task has {num_classes} "
                     "classes (one output per class, or one for two classes)")


def decide(out: np.ndarray, decision: str) -> np.ndarray:
    """Class ids (int64) from outputs (..., k): one per row, or one per pixel."""
    if decision == ARGMAX:
        return out.argmax(axis=-1).astype(np.int64)
    return (out[..., 0] > THRESHOLDS[decision]).astype(np.int64)


def classes(predict: Predict, raw: np.ndarray, fmt: Format,
            pixels: tuple[int, int] | None = None) -> np.ndarray:
    """Predicted class ids as int64, or with ``pixels`` masks (n, H, W) as uint8: a
    sixteenth of the bytes, for up to 256 classes."""
    found = decide(outputs(predict, raw, fmt, pixels), fmt.decision)
    return found.astype(np.uint8) if pixels is not None and found.max(initial=0) < 256 else found


def _close(a: tuple[float, float], b: tuple[float, float], span: float) -> bool:
    """Same map up to 3% of its output range, comparing where it sends 0 and ``span``."""
    tolerance = 0.03 * (abs(span * b[0]) or 1.0)
    return abs(a[1] - b[1]) < tolerance and abs(span * (a[0] - b[0]) + a[1] - b[1]) < tolerance


def _margin(accuracy: float, rows: int) -> float:
    """Head start of the training-statistics candidate: three standard errors, at least 5%.

    Weak ReLU networks are nearly scale-invariant, so on a few hundred samples a
    wrong scaling can win by noise alone; the recorded statistics are better evidence.
    """
    return max(0.05, 3 * math.sqrt(max(accuracy * (1 - accuracy), 0.01) / max(rows, 1)))


@dataclass(frozen=True)
class DataFacts:
    """What the configuration says about the raw inputs (from the dataset file)."""

    value_range: tuple[float, float] | None = None
    normalizations: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = ()

    @classmethod
    def from_config(cls, config: dict) -> DataFacts:
        value_range = config.get("sample_range")
        norms = tuple((tuple(n["mean"]), tuple(n["std"]))
                      for n in config.get("normalizations") or ())
        return cls(tuple(value_range) if value_range else None, norms)


def _fixed(calib: np.ndarray, facts: DataFacts) -> list[tuple[np.ndarray, np.ndarray]]:
    """The usual scalings of this kind of data, as (scale, shift) per channel."""
    one, zero = np.ones(1), np.zeros(1)
    if facts.value_range is not None:  # images: x / 255 and the like
        high = facts.value_range[1] or 1.0
        pairs = [(one / high, zero), (one, zero), (one * 2 / high, zero - 1)]
        for mean, std in facts.normalizations:
            mean_a, std_a = np.asarray(mean, float), np.asarray(std, float)
            pairs.append((1 / (high * std_a), -mean_a / std_a))
        return pairs
    # Per channel: (n, H, W) is one channel; (n, F) has F features, (n, H, W, C) C channels.
    per = calib.reshape(-1, 1) if calib.ndim in (1, 3) else calib.reshape(-1, calib.shape[-1])
    mean, std = per.mean(axis=0), per.std(axis=0)
    low, high = per.min(axis=0), per.max(axis=0)
    std = np.where(std > 0, std, 1.0)
    span = np.where(high > low, high - low, 1.0)
    return [(one, zero), (1 / std, -mean / std), (1 / span, -low / span),
            (2 / span, -2 * low / span - 1)]


def scalings(stats: InputStats | None, calib: np.ndarray, facts: DataFacts) -> list[Format]:
    """Candidate scalings, the one matching training statistics first."""
    values = calib.astype(np.float64)
    raw_mean, raw_std = float(values.mean()), float(values.std())
    span = facts.value_range[1] if facts.value_range else float(np.abs(values).max()) or 1.0
    matched = None
    if stats is not None and stats.has_moments() and raw_std > 0:
        a = float(stats.std) / raw_std
        matched = (a, float(stats.mean) - a * raw_mean)
        if not all(math.isfinite(v) for v in matched):
            matched = None
    out: list[Format] = []
    nowhere = Layout(())
    per_feature = _feature_match(stats, values)
    if per_feature is not None:  # more precise than one pair for all: it replaces it
        matched = None
        out.append(Format(nowhere, *per_feature, source="training-data"))
    for scale, shift in _fixed(values, facts):
        scalar = scale.size == 1 and shift.size == 1
        if matched is not None and scalar and _close(matched, (scale[0], shift[0]), span):
            out.insert(0, Format(nowhere, scale, shift, source="training-data"))
            matched = None
        else:
            out.append(Format(nowhere, scale, shift, source="calibrated"))
    if matched is not None:
        out.insert(0, Format(nowhere, np.array([matched[0]]), np.array([matched[1]]),
                             source="training-data"))
    return out


def _feature_match(stats: InputStats | None, values: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-feature map sending the calibration moments to the recorded training ones."""
    if stats is None or stats.feature_mean is None or stats.feature_std is None:
        return None
    if values.ndim != 2 or values.shape[1] != len(stats.feature_mean):
        return None
    raw_mean, raw_std = values.mean(axis=0), values.std(axis=0)
    if not np.all(raw_std > 0):
        return None
    scale = np.asarray(stats.feature_std) / raw_std
    shift = np.asarray(stats.feature_mean) - scale * raw_mean
    if not (np.all(np.isfinite(scale)) and np.all(np.isfinite(shift)) and np.all(scale > 0)):
        return None
    return scale, shift


def layouts(raw_shape: tuple[int, ...], stats: InputStats | None,
            declared: tuple[int, ...] | None) -> list[Layout]:
    """Layouts to try: those matching the recorded shape, else the declared, else common ones."""
    size = math.prod(raw_shape)
    if len(raw_shape) == 3:  # colour: channels last as stored, or first as torch wants
        h, w, c = raw_shape
        common = [Layout((h, w, c)), Layout((c, h, w), (2, 0, 1)), Layout((size,)),
                  Layout((size,), (2, 0, 1))]
    elif len(raw_shape) == 2:
        h, w = raw_shape
        common = [Layout((1, h, w)), Layout((h, w, 1)), Layout((size,)), Layout((h, w))]
    else:
        common = [Layout(tuple(raw_shape))]
    for shape in (stats.shape if stats else None, declared):
        if shape and math.prod(shape) == size:
            matching = [layout for layout in common if layout.shape == tuple(shape)]
            return matching or [Layout(tuple(shape))]
    return common


def choose(predict: Predict, calib_x: np.ndarray, calib_y: np.ndarray | None, num_classes: int,
           stats: InputStats | None, declared: tuple[int, ...] | None,
           facts: DataFacts | None = None, pixels: tuple[int, int] | None = None) -> Format:
    """Best format on the calibration sample (or the likeliest one without labels); with
    ``pixels``, the one that labels the calibration masks' pixels best."""
    facts = facts or DataFacts()
    candidates = scalings(stats, calib_x, facts)
    probe, viable, seen, errors = calib_x[:4], [], [], []
    columns = None
    for layout in layouts(tuple(calib_x.shape[1:]), stats, declared):
        first = Format(layout, candidates[0].scale, candidates[0].shift, "")
        try:
            out = outputs(predict, probe, first, pixels)
        except Exception as exc:
            errors.append(f"{list(layout.shape)}: {type(exc).__name__}: {exc}"[:300])
            continue
        if not any(np.allclose(out, other, rtol=1e-4, atol=1e-5) for other in seen):
            viable.append(layout)
            seen.append(out)
            columns = out.shape[-1]
    if not viable or columns is None:
        trained = f" (trained on per-sample shape {list(stats.shape)})" if stats else ""
        raise ValueError("no input layout worked" + trained + ": " + "; ".join(errors))
    ways = decisions(columns, num_classes)
    if calib_y is None:
        best = candidates[0]
        source = best.source if best.source == "training-data" else "default"
        out = outputs(predict, probe, Format(viable[0], best.scale, best.shift, source),
                      pixels)
        decision = ways[0] if len(ways) == 1 or 0 <= out.min() <= out.max() <= 1 else ways[-1]
        return Format(viable[0], best.scale, best.shift, source, decision)
    screen_x, screen_y = calib_x[:SCREEN_ROWS], calib_y[:SCREEN_ROWS]
    best_format, best_score = None, -1.0
    for layout in viable:
        for cand in candidates:
            fmt = Format(layout, cand.scale, cand.shift, cand.source)
            try:
                out = outputs(predict, screen_x, fmt, pixels)
            except Exception:
                continue
            for decision in ways:
                score = float(np.mean(decide(out, decision) == screen_y))
                if fmt.source == "training-data":
                    score += _margin(score, len(screen_y))
                if score > best_score:
                    best_format = Format(layout, cand.scale, cand.shift, cand.source, decision)
                    best_score = score
    if best_format is None:
        raise ValueError("the model failed on every candidate input scaling")
    best_format.accuracy = float(np.mean(classes(predict, calib_x, best_format, pixels)
                                         == calib_y))
    return best_format
