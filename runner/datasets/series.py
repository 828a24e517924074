"""Datasets of one time series in a CSV file: read, cut in time, written in public forms."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runner.datasets.errors import MalformedDataFile
from runner.datasets.locate import dataset_files, locate
from runner.datasets.registry import DatasetSpec, PublicFile
from runner.i18n.message import msg

MAX_ROWS = 1_000_000


@dataclass(frozen=True)
class Series:
    times: list[str]
    values: np.ndarray  # float64

    def head(self, count: int) -> Series:
        return Series(self.times[:count], self.values[:count])


def load_series(spec: DatasetSpec, data_dir: Path | None = None) -> Series:
    """The whole series from its verified file, hidden tail included: host only."""
    assert spec.series is not None
    path = dataset_files(locate(spec, data_dir), spec)["series"]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))[:MAX_ROWS]
    columns = (spec.series.time, spec.series.value)
    if not rows or any(column not in rows[0] for column in columns):
        raise MalformedDataFile(path, msg("error.series.columns", columns=list(columns)))
    try:
        values = np.array([float(row[spec.series.value]) for row in rows])
    except (TypeError, ValueError) as error:
        raise MalformedDataFile(path, msg("error.series.not_number", error=str(error))) from None
    return Series([row[spec.series.time] for row in rows], values)


def public_part(spec: DatasetSpec, series: Series) -> Series:
    """All but the hidden tail: what notebooks may read."""
    return series.head(len(series.values) - spec.split.heldout)


def csv_text(series: Series, form: PublicFile) -> str:
    """The series as a CSV file with the form's header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(form.columns)
    for time, value in zip(series.times, series.values, strict=True):
        writer.writerow([time, f"{value:g}"])
    return out.getvalue()
