"""What the sandbox writes is data to parse with limits, never trusted or unpickled."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from runner.i18n.render import render
from runner.ingest import read_measurements
from runner.measurements import Measurements, load_array, read_json_model


def test_a_symlinked_report_file_is_not_followed(tmp_path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text('{"schema": 1, "notes": ["host secret"]}')
    out = tmp_path / "out"
    out.mkdir()
    (out / "measurements.json").symlink_to(secret)
    notes: list = []
    assert read_measurements(out, notes) is None
    shown = render(notes[0], "en")
    assert "not a regular file" in shown and "host secret" not in shown


def test_oversized_and_malformed_files_are_rejected(tmp_path):
    big = tmp_path / "measurements.json"
    big.write_text(json.dumps({"schema": 1, "notes": [
        {"id": "note.probe.not_measured", "params": {"error": "x" * 999}}] * 10_000}))
    with pytest.raises(ValueError, match="over the"):
        read_json_model(big, Measurements)
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({"schema": 1, "score": 10, "models": []}))
    with pytest.raises(ValueError, match="score"):
        read_json_model(forged, Measurements)


def test_arrays_must_stay_inside_and_never_unpickle(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    np.save(tmp_path / "outside.npy", np.arange(3))
    with pytest.raises(ValueError, match="not a file inside"):
        load_array(out, "../outside.npy", max_items=10)
    (out / "link.npy").symlink_to(tmp_path / "outside.npy")
    with pytest.raises(ValueError, match="not a file inside"):
        load_array(out, "link.npy", max_items=10)
    np.save(out / "objects.npy", np.array([{"payload": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        load_array(out, "objects.npy", max_items=10)
    (out / "raw.pkl").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(ValueError):
        load_array(out, "raw.pkl", max_items=10)
    np.save(out / "huge.npy", np.zeros(100, np.int64))
    with pytest.raises(ValueError, match="over the 10 limit"):
        load_array(out, "huge.npy", max_items=10)
