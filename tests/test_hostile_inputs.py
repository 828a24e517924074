"""Hostile notebooks and hostile sandbox output: a clear problem or a note, never a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from numpy.lib import format as npy_format

from runner import assignments
from runner.errors import NotebookError
from runner.grading import _ProgressFollower, grade
from runner.i18n.render import render
from runner.ingest import build_context, read_measurements, read_run
from runner.measurements import RUN_FILE, load_array
from runner.notebook import read_submission
from runner.provision import Truth
from runner.report.model import Mode, Report, Status
from runner.sandbox.backends import Bubblewrap, bubblewrap_works
from tests.notebooks import write_notebook

needs_sandbox = pytest.mark.skipif(
    not bubblewrap_works() and os.environ.get("CI") != "true",
    reason="bubblewrap is not usable here (apt-get install bubblewrap)")

DEEP = 100_000


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _notebook_json(**cell_fields) -> dict:
    cell = {"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {},
            "outputs": [], "source": "x = 1", **cell_fields}
    return {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "300"}
    return subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True,
                          text=True, env=env, timeout=300)


# --- the notebook file itself --------------------------------------------------------------

DEEP_NOTEBOOKS = {
    "deep-array": _nested(DEEP),
    "deep-cell-metadata": json.dumps(_notebook_json()).replace(
        '"metadata": {}', '"metadata": {"x": ' + _nested(DEEP) + "}", 1),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DEEP_NOTEBOOKS))
def test_deeply_nested_notebook_is_one_clear_line_for_grade_and_check(tmp_path, name):
    path = tmp_path / f"{name}.ipynb"
    path.write_text(DEEP_NOTEBOOKS[name])
    for command in (
            ["grade", "autograd_derivative", str(path), "--out", str(tmp_path / "graded"),
             "--backend", "none", "--unsafe-no-sandbox"],
            ["check", "autograd_derivative", str(path), "--backend", "none"]):
        result = _cli(*command)
        assert result.returncode == 2, result.stderr[-2000:]
        assert "Traceback" not in result.stderr
        assert f"{name}.ipynb" in result.stderr and "nested deeper than" in result.stderr
        assert not (tmp_path / "graded" / "report.json").exists()


@pytest.mark.parametrize("data, problem", [
    (_nested(500).encode(), "nested deeper than"),  # fine for json, too deep for nbformat
    (json.dumps(_notebook_json(metadata={"x": json.loads(_nested(150))})).encode(),
     "nested deeper than"),
    (b'{"cells": [], "metadata": {"n": ' + b"7" * 5000 + b"}}", "not valid JSON"),
    (json.dumps(_notebook_json(source="s = '@'")).replace("@", "\\ud800").encode(),
     "not valid Unicode"),
    (json.dumps({"cells": 5, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
     "not a valid notebook"),
    (b'{"cells": []', "not valid JSON"),
    (b'{"cells": ["\xff"]}', "not valid JSON"),
])
def test_bytes_that_are_not_a_notebook_are_a_notebook_error(tmp_path, data, problem):
    path = tmp_path / "hw.ipynb"
    path.write_bytes(data)
    with pytest.raises(NotebookError, match=problem) as raised:
        read_submission(path)
    assert str(path) in raised.value.message and raised.value.hint


def test_ordinary_nesting_in_outputs_and_metadata_is_accepted(tmp_path):
    figure = {"data": [{"x": [1, 2], "marker": {"line": {"color": {"rgb": [1, 2, 3]}}}}]}
    notebook = _notebook_json(metadata={"colab": {"base_uri": "https://localhost:8080/"}},
                              outputs=[{"output_type": "display_data", "metadata": {},
                                        "data": {"application/json": figure}}])
    path = tmp_path / "hw.ipynb"
    path.write_text(json.dumps(notebook))
    assert read_submission(path).notebook.cells[0].outputs[0].data["application/json"] == figure


def test_a_notebook_over_the_code_cell_limit_is_refused_by_name(tmp_path):
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": "x = 1"}
    path = tmp_path / "many.ipynb"
    path.write_text(json.dumps({"cells": [cell] * 50_000, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    result = _cli("check", "autograd_derivative", str(path), "--backend", "none")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "50,000 code cells, over the 10,000 limit" in result.stderr


# --- what the run keeps of the notebook ----------------------------------------------------

@needs_sandbox
def test_saved_outputs_of_cells_that_never_ran_are_not_kept(tmp_path):
    notebook = nbformat.v4.new_notebook()
    saved = nbformat.v4.new_output("stream", name="stdout", text="SAVED-OUTPUT " * 400_000)
    notebook.cells = [
        nbformat.v4.new_code_cell("raise ValueError('stops here')", execution_count=3,
                                  outputs=[saved]),
        nbformat.v4.new_code_cell("print('later')", execution_count=4, outputs=[saved]),
    ]
    path = tmp_path / "saved.ipynb"
    nbformat.write(notebook, path)
    assert path.stat().st_size > 5 * 2**20
    report = grade(assignments.load("autograd_derivative"), path, tmp_path / "out",
                   mode=Mode.grade, backend=Bubblewrap())
    assert [c.status for c in report.execution.cells] == ["error", "skipped"]
    executed = tmp_path / "out" / "executed.ipynb"
    assert "SAVED-OUTPUT" not in executed.read_text()
    cells = nbformat.read(executed, as_version=4).cells
    assert cells[1].outputs == [] and cells[1].execution_count is None
    assert "ValueError" in json.dumps(cells[0].outputs)  # what ran here is kept


# --- names that are not Unicode ------------------------------------------------------------

@needs_sandbox
def test_a_notebook_name_with_undecodable_bytes_is_graded_and_reported_escaped(tmp_path):
    path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/hw\xff\n.ipynb"))
    write_notebook(path, "import os\nfiles = os.listdir('.')",
                   "assert files == ['submission.ipynb'], files",
                   "raise FileNotFoundError(os.fsdecode(b'data\\xff.csv'))")
    report = grade(assignments.load("autograd_derivative"), path, tmp_path / "out",
                   mode=Mode.grade, backend=Bubblewrap())
    statuses = [c.status for c in report.execution.cells]
    assert statuses == ["ok", "ok", "error"], report.execution.cells
    saved = Report.model_validate_json((tmp_path / "out" / "report.json").read_bytes())
    assert saved.notebook == "hw\\xff\\x0a.ipynb"
    assert saved.execution.cells[2].error.startswith("FileNotFoundError: data")


def test_a_plain_cyrillic_name_is_kept_inside_the_sandbox(tmp_path):
    plain = read_submission(write_notebook(tmp_path / "ДЗ 4 (Иванов).ipynb", "x = 1"))
    assert plain.sandbox_name == "ДЗ 4 (Иванов).ipynb"
    hidden = read_submission(write_notebook(tmp_path / ".hw.ipynb", "x = 1"))
    assert hidden.sandbox_name == "submission.ipynb"


# --- what the sandbox writes ---------------------------------------------------------------

@pytest.mark.slow
@needs_sandbox
def test_junk_in_the_progress_file_neither_crashes_nor_stalls_the_host(tmp_path):
    junk = """\
import pathlib, time
progress = pathlib.Path.cwd().parent / 'out' / 'progress.jsonl'
with progress.open('a') as handle:
    handle.write('[' * 20_000 + ']' * 20_000 + '\\n')  # 40 KB: read and parsed
    handle.write('{"event": "cell", "position": 1, "index": "not a number"}\\n')
    handle.write('{"event": "start", "cells": ' + '[' * 100_000 + ']' * 100_000 + '}\\n')
    handle.write('x' * 300_000)
    handle.flush()
    time.sleep(1)
    handle.write('\\n')
time.sleep(1)
"""
    notebook = write_notebook(tmp_path / "junk.ipynb", junk, "import time\ntime.sleep(2)")
    events: list[dict] = []
    report = grade(assignments.load("autograd_derivative"), notebook, tmp_path / "out",
                   mode=Mode.check, backend=Bubblewrap(), on_progress=events.append)
    assert report.status is Status.graded
    assert {"event": "cell", "index": 2, "position": 1} in events  # after the junk
    assert all(isinstance(e.get("index", 0), int) for e in events)


def test_deeply_nested_or_forged_sandbox_json_becomes_a_note(tmp_path):
    (tmp_path / "measurements.json").write_text('{"schema": 1, "notes": ' + _nested(DEEP) + "}")
    (tmp_path / RUN_FILE).write_text(_nested(DEEP))
    messages: list = []
    assert read_measurements(tmp_path, messages) is None
    assert read_run(tmp_path, messages) is None
    notes = [render(note, "en") for note in messages]
    assert ["measurements.json" in notes[0], "run.json" in notes[1]] == [True, True]
    assert all("recursion limit" in note for note in notes)


def _npy(path: Path, header: dict, data: bytes = b"") -> None:
    with path.open("wb") as handle:
        npy_format.write_array_header_1_0(handle, header)
        handle.write(data)


def _hostile_arrays(out: Path) -> dict[str, str]:
    """Prediction files a hostile notebook could leave, and what the note must say."""
    (out / "predictions").mkdir()
    np.save(out / "ok.npy", np.arange(4))
    (out / "predictions" / "empty.npy").write_bytes(b"")
    (out / "predictions" / "header.npy").write_bytes((out / "ok.npy").read_bytes()[:30])
    (out / "predictions" / "short.npy").write_bytes((out / "ok.npy").read_bytes()[:-3])
    _npy(out / "predictions" / "huge.npy",
         {"descr": "<i8", "fortran_order": False, "shape": (10**12,)}, b"\0" * 64)
    _npy(out / "predictions" / "vast.npy",
         {"descr": "<i8", "fortran_order": False, "shape": (10**9, 10**9, 10**9)})
    _npy(out / "predictions" / "negative.npy",
         {"descr": "<i8", "fortran_order": False, "shape": (-4,)}, b"\0" * 32)
    np.save(out / "predictions" / "objects.npy", np.array([{"a": 1}] * 4, dtype=object),
            allow_pickle=True)
    np.save(out / "predictions" / "records.npy", np.zeros(4, dtype=[("a", "<i4"), ("b", "<f8")]))
    np.save(out / "predictions" / "text.npy", np.array(["1", "2", "3", "4"]))
    return {"empty": "not a readable .npy", "header": "not a readable .npy",
            "short": "truncated", "huge": "over the 4 limit", "vast": "over the 4 limit",
            "negative": "has shape", "objects": "pickle", "records": "expected plain",
            "text": "expected plain"}


def test_hostile_prediction_files_become_notes_on_their_model(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    expected = _hostile_arrays(out)
    base = {"framework": "torch", "class_name": "Net", "params": 1, "layers": []}
    models = [{**base, "index": i, "predictions": f"predictions/{name}.npy"}
              for i, name in enumerate(expected)]
    (out / "measurements.json").write_text(json.dumps({"schema": 1, "models": models}))
    notes: list[str] = []
    measurements = read_measurements(out, notes)
    assert notes == []
    ctx = build_context("grade", out, None, measurements, Truth(labels=np.arange(4)), None)
    for model, (name, problem) in zip(ctx.models, expected.items(), strict=True):
        assert model.accuracy is None
        assert problem in render(model.error, "en"), (name, model.error)


def test_a_fortran_order_array_loads_as_the_same_values(tmp_path):
    values = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    np.save(tmp_path / "values.npy", values)
    loaded = load_array(tmp_path, "values.npy", max_items=12)
    assert loaded.dtype == np.float32 and np.array_equal(loaded, values)


def test_the_progress_follower_skips_an_over_long_line_and_goes_on(tmp_path):
    path = tmp_path / "progress.jsonl"
    events: list[dict] = []
    follower = _ProgressFollower(path, events.append)
    follower.poll()  # no file yet
    with path.open("ab", buffering=0) as handle:
        handle.write(b'{"event": "start", "cells": 3}\n' + b"x" * 200_000)
        for _ in range(5):
            follower.poll()
        handle.write(b'y\n{"event": "cell", "index": 1, "position": 0}\n{"event": "mea')
        for _ in range(5):
            follower.poll()
        handle.write(b'sure"}\n')
        follower.poll()
    assert events == [{"event": "start", "cells": 3}, {"event": "cell", "index": 1, "position": 0},
                      {"event": "measure"}]


def test_a_model_error_with_undecodable_bytes_does_not_cost_the_measurements(tmp_path):
    """A notebook's exception text can hold lone surrogates; the probe's file stays readable."""
    from runner.probe.output import save_json

    save_json(tmp_path / "measurements.json", {"models": [], "notes": [
        {"id": "note.probe.layers_not_described", "params": {
            "model": 1, "error": "OSError: [Errno 2] No such file: 'w\udcff.h5'"}}]})
    notes: list = []
    measurements = read_measurements(tmp_path, notes)
    assert notes == []
    assert measurements is not None
    assert measurements.notes[0].params["error"].startswith("OSError: [Errno 2]")
