"""Metrics: pure functions of (predicted, target) arrays, computed on the host only.

The sandbox records what a model produced (class ids, values, masks); the
targets never leave the host, and these functions turn the two into numbers.
Each metric says which way is better, so a check can give credit between a
floor and a target in either direction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from runner.i18n.message import Message, msg


def accuracy(predicted: np.ndarray, target: np.ndarray) -> float:
    """Share of exactly matching labels."""
    _same_shape(predicted, target)
    return float(np.mean(predicted == target)) if target.size else 0.0


def rmse(predicted: np.ndarray, target: np.ndarray) -> float:
    """Root mean squared error."""
    _same_shape(predicted, target)
    diff = predicted.astype(np.float64) - target.astype(np.float64)
    return float(np.sqrt(np.mean(diff * diff)))


def mae(predicted: np.ndarray, target: np.ndarray) -> float:
    """Mean absolute error."""
    _same_shape(predicted, target)
    return float(np.mean(np.abs(predicted.astype(np.float64) - target.astype(np.float64))))


def mape(predicted: np.ndarray, target: np.ndarray) -> float:
    """Mean absolute percentage error, in percent; undefined where a target is 0."""
    _same_shape(predicted, target)
    truth = target.astype(np.float64)
    if np.any(truth == 0):
        raise ValueError("MAPE is undefined where a target is 0")
    return float(100 * np.mean(np.abs((predicted.astype(np.float64) - truth) / truth)))


def _overlaps(predicted: np.ndarray, target: np.ndarray, *, first: int = 0
              ) -> list[tuple[int, int, int]]:
    """(intersection, predicted, target) pixel counts over all masks together, per class
    from ``first`` on that is present in either."""
    _same_shape(predicted, target)
    found = []
    for cls in np.union1d(np.unique(predicted), np.unique(target)):
        if cls < first:
            continue
        p, t = predicted == cls, target == cls
        found.append((int(np.sum(p & t)), int(np.sum(p)), int(np.sum(t))))
    return found


def iou(predicted: np.ndarray, target: np.ndarray) -> float:
    """Mean over classes of intersection over union of per-pixel class masks."""
    scores = [inter / (p + t - inter) for inter, p, t in _overlaps(predicted, target)]
    return float(np.mean(scores)) if scores else 1.0


def dice(predicted: np.ndarray, target: np.ndarray) -> float:
    """Mean over classes of the Dice coefficient 2|P∩T| / (|P| + |T|)."""
    scores = [2 * inter / (p + t) for inter, p, t in _overlaps(predicted, target)]
    return float(np.mean(scores)) if scores else 1.0


def object_iou(predicted: np.ndarray, target: np.ndarray) -> float:
    """IoU of the objects: the mean over classes but the first, class 0 being background.

    Background usually covers most pixels, so the mean over all classes credits a
    model that marks nothing with about half; this one gives it 0.
    """
    scores = [inter / (p + t - inter) for inter, p, t in _overlaps(predicted, target, first=1)]
    return float(np.mean(scores)) if scores else 1.0


def object_dice(predicted: np.ndarray, target: np.ndarray) -> float:
    """Dice of the objects: the mean over classes but the first (background)."""
    scores = [2 * inter / (p + t) for inter, p, t in _overlaps(predicted, target, first=1)]
    return float(np.mean(scores)) if scores else 1.0


def _same_shape(predicted: np.ndarray, target: np.ndarray) -> None:
    if predicted.shape != target.shape:
        raise ValueError(f"predictions have shape {list(predicted.shape)}, targets "
                         f"{list(target.shape)}")


@dataclass(frozen=True)
class Metric:
    """``compute`` is None for a metric measured by an instrument, not from (predicted,
    target) pairs: a generator's samples have no targets (runner/generation_scores.py)."""

    name: str
    higher_is_better: bool
    compute: Callable[[np.ndarray, np.ndarray], float] | None = None

    @property
    def title(self) -> Message:
        """The metric's name in words ("accuracy", "точность"): ``metric.<name>``."""
        return msg(f"metric.{self.name}")

    def show(self, value: float) -> Message:
        """The value as a report prints it: ``metric.value.<name>`` decides the digits
        (0.8970, 75.00) and the language the decimal sign (0,8970)."""
        return msg(f"metric.value.{self.name}", value=value)


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("accuracy", True, accuracy),
    Metric("rmse", False, rmse),
    Metric("mae", False, mae),
    Metric("mape", False, mape),
    Metric("iou", True, iou),
    Metric("dice", True, dice),
    Metric("object_iou", True, object_iou),
    Metric("object_dice", True, object_dice),
    Metric("frechet", False),  # to hidden images, in the yardstick network's features
    Metric("coverage", True),  # share of the classes the samples show
    Metric("memorised", False),  # share of the samples that copy a training image
    Metric("reconstruction_rmse", False),  # hidden images rebuilt, pixels on 0..1
)}

TASK_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy",),
    "forecasting": ("rmse", "mae", "mape"),
    "segmentation": ("object_iou", "object_dice", "iou", "dice", "accuracy"),
    "generation": ("frechet", "coverage", "memorised", "reconstruction_rmse"),
}
"""Metrics computed for every model of a task, so reports can show them all."""


def compute_all(task: str, predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """Every metric of ``task`` that is defined for these arrays."""
    values = {}
    for name in TASK_METRICS.get(task, ()):
        compute = METRICS[name].compute
        if compute is None:
            continue
        try:
            values[name] = compute(predicted, target)
        except ValueError:
            continue
    return values
