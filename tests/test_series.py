"""The airline series as data: what the sandbox gets, and what stays on the host."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runner import assignments
from runner.baselines import naive, seasonal_naive
from runner.datasets import get_spec
from runner.datasets.series import load_series
from runner.provision import provision
from runner.report.model import Mode
from runner.sandbox.job import JobDir

AIRLINE = assignments.load("lstm_airline_passengers")


def test_the_series_is_read_from_its_verified_file():
    series = load_series(get_spec("airline_passengers"))
    assert len(series.values) == 144 and series.times[0] == "1949-01"
    assert series.values[0] == 112 and series.times[-1] == "1960-12"


def test_the_seasonal_naive_forecast_repeats_the_last_season():
    history = np.arange(1.0, 25.0)  # two "years" of 12
    assert seasonal_naive(history, 14, 12).tolist() == [*range(13, 25), 13, 14]
    assert naive(history, 3).tolist() == [24.0, 24.0, 24.0]
    with pytest.raises(ValueError):
        seasonal_naive(history[:5], 3, 12)


def _all_bytes(root: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


@pytest.mark.parametrize("mode", [Mode.grade, Mode.check])
def test_no_file_in_the_job_holds_a_month_after_1958(tmp_path: Path, mode: Mode):
    job = JobDir.create(tmp_path / "job")
    probe, truth = provision(AIRLINE.spec, job, mode)
    files = _all_bytes(job.root)
    for month in ("1959-", "1960-"):
        assert month.encode() not in files
    history = np.load(job.data / "history.npy")
    full = load_series(get_spec("airline_passengers")).values
    if mode is Mode.grade:
        assert truth.labels.tolist() == full[120:].tolist()
        assert history.tolist() == full[:120].tolist()
    else:  # check mode forecasts 1957-1958 from what precedes them
        assert truth.labels.tolist() == full[96:120].tolist()
        assert history.tolist() == full[:96].tolist()
    assert probe["models"]["horizon"] == 24
    # The public part is where notebooks read it, in each listed form, 1949-1958 only.
    text = (job.work / "airline-passengers.csv").read_text()
    assert text.splitlines()[0] == "Month,Passengers" and text.splitlines()[-1] == "1958-12,337"
    assert (job.work / "AirPassengers.csv").read_text().startswith("Month,#Passengers\n")
    assert (job.work / "sample_data" / "airline-passengers.csv").is_file()
    assert set(truth.baselines) == {"naive", "seasonal_naive"}
