"""The inputs a grading run feeds to every model, and the targets only the host keeps.

Two parts per dataset, whatever its format: a public *calibration* sample with
its targets (the sandbox may see both: it finds each model's input format on
it) and the *evaluation* inputs whose targets stay on the host. In grade mode
the evaluation set is the hidden one (the official test set, or a fresh sample
seeded anew); in check mode it is public, so a student's own check reveals
nothing hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runner.datasets.errors import DatasetError
from runner.datasets.generated import draw
from runner.datasets.layouts import read_public_part
from runner.datasets.public import public_cache
from runner.datasets.registry import DatasetSpec, Format
from runner.datasets.series import load_series, public_part
from runner.datasets.splits import load_official
from runner.i18n.message import Message, msg


@dataclass(frozen=True)
class EvaluationSets:
    """For a series, ``eval_x`` is the history to forecast from and ``eval_y`` what follows."""

    calibration_x: np.ndarray
    calibration_y: np.ndarray | None
    eval_x: np.ndarray
    eval_y: np.ndarray  # host only
    description: Message


def evaluation_sets(dataset: DatasetSpec, *, hidden: bool, rng: np.random.Generator,
                    calibration_size: int, data_dir: Path | None = None) -> EvaluationSets:
    """Calibration sample and evaluation set of ``dataset``; evaluation rows in random order."""
    if dataset.format is Format.generator:
        return _generated(dataset, hidden, rng, calibration_size)
    if dataset.format is Format.csv_series:
        return _series(dataset, hidden, data_dir)
    return _images(dataset, hidden, rng, calibration_size, data_dir)


def _series(dataset: DatasetSpec, hidden: bool, data_dir: Path | None) -> EvaluationSets:
    """Grade: forecast the hidden tail from the public part. Check: the public part's own
    last ``heldout`` values from what precedes them."""
    series = load_series(dataset, data_dir)
    horizon = dataset.split.heldout
    if not hidden:
        series = public_part(dataset, series)
    history, future = series.values[:-horizon], series.values[-horizon:]
    if len(history) < horizon:
        raise DatasetError(msg("error.series.too_short", name=dataset.name,
                               values=msg("unit.value", n=len(series.values)), hidden=horizon))
    return EvaluationSets(history, None, history, future, msg(
        "evaluation.series." + ("hidden" if hidden else "public"),
        values=msg("unit.value", n=horizon), start=str(series.times[-horizon]),
        end=str(series.times[-1]), history=msg("unit.value", n=len(history))))


def _images(dataset: DatasetSpec, hidden: bool, rng: np.random.Generator, calibration_size: int,
         data_dir: Path | None) -> EvaluationSets:
    heldout_x, heldout_y = read_public_part(public_cache(dataset, data_dir), dataset, "test")
    heldout_y = heldout_y.astype(np.int64)
    calibration = (heldout_x[:calibration_size], heldout_y[:calibration_size])
    if hidden:
        official = load_official(dataset, data_dir)
        order = rng.permutation(len(official.test_x))
        return EvaluationSets(*calibration, official.test_x[order],
                              official.test_y[order].astype(np.int64),
                              msg("evaluation.images.hidden",
                                  images=msg("unit.image", n=len(order))))
    return EvaluationSets(*calibration, heldout_x, heldout_y,
                          msg("evaluation.images.public",
                              images=msg("unit.image", n=len(heldout_x))))


def _generated(dataset: DatasetSpec, hidden: bool, rng: np.random.Generator,
               calibration_size: int) -> EvaluationSets:
    calibration = draw(dataset, calibration_size, dataset.split.seed)
    count = dataset.split.heldout
    unit = msg("unit.image" if len(dataset.sample.shape) >= 2 else "unit.point", n=count)
    if hidden:
        # A generator state of 128 bits: no notebook can search the seed that made the points.
        eval_x, eval_y = draw(dataset, count, np.random.RandomState(
            np.random.MT19937(np.random.SeedSequence(rng.integers(2**63, size=2).tolist()))))
        return EvaluationSets(*calibration, eval_x, eval_y,
                              msg("evaluation.points.hidden", points=unit))
    eval_x, eval_y = draw(dataset, count, dataset.split.seed + 1)
    return EvaluationSets(*calibration, eval_x, eval_y,
                          msg("evaluation.points.public", points=unit))


def perturbed_copy(dataset: DatasetSpec, inputs: np.ndarray, targets: np.ndarray,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
    """The inputs with the dataset's noise, in a new random order, and their targets.

    None when the dataset declares no perturbation. The order differs from the clean
    copy's, so the two cannot be paired up by position.
    """
    if dataset.perturbation is None:
        return None
    noise = dataset.perturbation.noise
    values = inputs.astype(np.float64) + rng.uniform(-noise, noise, inputs.shape)
    if np.issubdtype(inputs.dtype, np.integer):
        values = np.rint(values)
    if dataset.sample.range is not None:
        values = np.clip(values, *dataset.sample.range)
    order = rng.permutation(len(inputs))
    return values.astype(inputs.dtype)[order], targets[order]
