"""State shared by the trackers (install) and the measurer (finish).

One process-wide ``STATE`` object, because hooks fire from framework code that
has no other way to reach the probe.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class InputStats:
    """What a model was fed while training: per-sample shape and value statistics."""

    shape: tuple[int, ...]
    mean: float | None = None
    std: float | None = None
    dtype: str = ""
    feature_mean: tuple[float, ...] | None = None  # per feature, for (n, features) inputs
    feature_std: tuple[float, ...] | None = None
    rows: Any = None  # a few small training inputs, flattened (n, values): see sample_rows

    def has_moments(self) -> bool:
        """True when mean and std are usable for an affine match."""
        return (self.mean is not None and self.std is not None
                and math.isfinite(self.mean) and math.isfinite(self.std) and self.std > 0)


MAX_FEATURES = 64
"""Inputs of at most this many features per sample also get per-feature moments."""
SAMPLE_ROWS = 32
SAMPLE_ROW_VALUES = 256


def sample_rows(rows: Any) -> Any:
    """The first few inputs, flattened, when each is small (a window of a series, a point).

    They let the measurer recognise the student's own transformation of the data:
    the right one reproduces them exactly.
    """
    if getattr(rows, "ndim", 0) < 2 or not len(rows):
        return None
    flat = rows[:SAMPLE_ROWS].reshape(min(len(rows), SAMPLE_ROWS), -1)
    return flat if flat.shape[1] <= SAMPLE_ROW_VALUES else None


def feature_moments(rows: Any) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """Per-feature mean and std of a (n, features) float64 array, else None."""
    if getattr(rows, "ndim", 0) != 2 or not 0 < rows.shape[1] <= MAX_FEATURES or not len(rows):
        return None
    return (tuple(float(v) for v in rows.mean(axis=0)),
            tuple(float(v) for v in rows.std(axis=0)))


@dataclass
class Trained:
    """A model the notebook trained, held strongly so later rebinding cannot lose it."""

    framework: str
    model: Any
    order: int
    stats: InputStats | None = None
    dataset: Any = None  # a tf.data.Dataset it was fit on, peeked at in finish for moments


@dataclass
class ProbeState:
    """Configuration plus everything the hooks have seen so far."""

    config: dict[str, Any] = field(default_factory=dict)
    keras_models: list[Trained] = field(default_factory=list)
    torch_tracker: Any = None
    autograd_counter: Any = None
    notes: list[dict[str, Any]] = field(default_factory=list)  # {"id", "params"}
    loaders: list[str] = field(default_factory=list)  # dataset loaders called: keras:cifar10
    installed: bool = False
    started: float = 0.0  # time.time() at install: files older than this are the grader's
    _counter: itertools.count = field(default_factory=itertools.count)

    def next_order(self) -> int:
        """Global sequence number so models of both frameworks sort by training start."""
        return next(self._counter)

    def note(self, message_id: str, /, **params: Any) -> None:
        """Keep a bounded note for measurements.json: a catalogue id (``note.probe.…``)
        and its parameters, so the host renders it in the reader's language."""
        note = {"id": message_id, "params": {
            name: value[:500] if isinstance(value, str) else value
            for name, value in params.items()}}
        if len(self.notes) < 50 and note not in self.notes:
            self.notes.append(note)


    def loader_called(self, name: str) -> None:
        """Remember that the notebook called a framework's dataset loader (bounded)."""
        if len(self.loaders) < 32 and name not in self.loaders:
            self.loaders.append(name[:100])


STATE = ProbeState()
