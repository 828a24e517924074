"""The run record: the agent's cell log and run.json read back with limits, and which code
graded it (the grader version a resumed batch compares)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from runner import __version__, assignments
from runner.grading import grade, grader_version, tree_digest
from runner.i18n.message import msg
from runner.i18n.render import render
from runner.ingest import cell_error, close_run, read_run, stopped_reason
from runner.measurements import CELLS_FILE, MAX_LINE_BYTES, RUN_FILE
from runner.notebook import MAX_CODE_CELLS
from runner.paths import ProjectPaths
from runner.probe.agent import CELLS_FILE as AGENT_CELLS_FILE
from runner.probe.agent import JsonLines
from runner.report.model import Mode, Status
from runner.sandbox.backends import Bubblewrap, bubblewrap_works
from tests.notebooks import with_limits

needs_sandbox = pytest.mark.skipif(
    not bubblewrap_works() and os.environ.get("CI") != "true",
    reason="bubblewrap is not usable here (apt-get install bubblewrap)")

SUMMARY = {"stopped": None, "probe_finished": True, "probe_error": None, "seconds": 1.5}


def _write_run(out: Path, events: list[dict], summary: dict = SUMMARY) -> None:
    """What the agent leaves in out/: run.json and the cell log, through its own writer."""
    (out / RUN_FILE).write_text(json.dumps(summary))
    log = JsonLines(out / AGENT_CELLS_FILE)
    for event in events:
        log.write(event)


def _ok(index: int) -> list[dict]:
    return [{"index": index, "status": "running"},
            {"index": index, "status": "ok", "error": None, "seconds": 0.01}]


def test_agent_and_host_name_the_same_log():
    assert AGENT_CELLS_FILE == CELLS_FILE


def test_a_record_of_the_most_cells_a_notebook_may_have_is_read_whole(tmp_path):
    events = [event for index in range(MAX_CODE_CELLS) for event in _ok(index)]
    events[-1] = {"index": MAX_CODE_CELLS - 1, "status": "error", "seconds": 0.2,
                  "error": "ValueError: " + "ы" * 488}  # the agent's longest error
    _write_run(tmp_path, events)
    notes: list[str] = []
    run = read_run(tmp_path, notes)
    assert notes == []
    assert len(run.cells) == MAX_CODE_CELLS and run.running is None
    assert run.cells[-1].status == "error" and run.probe_finished and run.seconds == 1.5


def test_a_kill_mid_cell_marks_that_cell_killed_and_the_rest_skipped(tmp_path):
    _write_run(tmp_path, [*_ok(1), {"index": 3, "status": "running"}],
               {**SUMMARY, "probe_finished": False})
    with (tmp_path / CELLS_FILE).open("a") as handle:
        handle.write('{"index": 3, "status": "o')  # the write the kill cut short
    notes: list = []
    killed = msg("stopped.killed.memory", memory=600)
    run = close_run(read_run(tmp_path, notes), [1, 3, 5], killed)
    assert notes == []
    assert [(c.index, c.status) for c in run.cells] == [(1, "ok"), (3, "killed"), (5, "skipped")]
    assert render(cell_error(run.cells[1], killed), "en") == (
        "it used more than 600 MB of memory and was stopped")
    assert render(cell_error(run.cells[1], killed), "ru") == (
        "он занял больше 600 МБ памяти и был остановлен")


def test_the_agents_codes_are_put_in_words_whatever_text_came_with_them(tmp_path):
    """Timeouts, dead kernels and the total time limit are said in the reader's language
    from the agent's codes and numbers, never by parsing its English."""
    _write_run(tmp_path, [
        {"index": 1, "status": "timeout", "seconds": 3.0, "error": "über die Zeit",
         "limit_seconds": 3},
        {"index": 2, "status": "kernel-died", "seconds": 0.5, "error": None}],
        {**SUMMARY, "stopped": "total_time", "probe_finished": False,
         "probe_kernel_died": True})
    run = read_run(tmp_path, [])
    timeout, died = (cell_error(cell, stopped_reason(None, run)) for cell in run.cells)
    assert render(timeout, "en") == "ran past its 3 s limit"
    assert render(died, "ru").startswith("ядро упало")
    assert render(stopped_reason(None, run), "en") == (
        "the notebook ran past its total time limit")
    assert run.probe_kernel_died


def test_run_json_without_a_log_is_a_run_that_reached_no_cell(tmp_path):
    (tmp_path / RUN_FILE).write_text(json.dumps(SUMMARY))
    notes: list[str] = []
    run = read_run(tmp_path, notes)
    assert run is not None and run.cells == [] and notes == []


@pytest.mark.parametrize("line, problem", [
    ('{"index": 0, "status": "ok", "score": 10}', "line 3: score: Extra inputs"),
    ('{"index": -1, "status": "ok"}', "line 3: index: Input should be greater"),
    ('{"index": 0, "status": "passed"}', "line 3: status: String should match"),
    ("[" * 100_000 + "]" * 100_000, "over the 16384 limit"),
    ("[" * 5_000 + "]" * 5_000, "line 3: Invalid JSON: recursion limit exceeded"),
    ('{"index": 0, "status": "error", "error": "\\udcff"}', "line 3: Invalid JSON: lone"),
    ("", "line 3: Invalid JSON"),
])
def test_a_forged_line_rejects_the_log_with_a_note_naming_it(tmp_path, line, problem):
    _write_run(tmp_path, _ok(0))
    with (tmp_path / CELLS_FILE).open("a") as handle:
        handle.write(line + "\n")
    messages: list = []
    assert read_run(tmp_path, messages) is None
    notes = [render(note, "en") for note in messages]
    assert len(notes) == 1 and "cell log" in notes[0] and problem in notes[0], notes


def test_more_cells_than_any_notebook_may_have_are_refused(tmp_path):
    events = [{"index": i, "status": "skipped"} for i in range(MAX_CODE_CELLS + 1)]
    _write_run(tmp_path, events)
    notes: list = []
    assert read_run(tmp_path, notes) is None
    assert "at most 10000 items" in render(notes[0], "en")
    with (tmp_path / CELLS_FILE).open("a") as handle:
        handle.writelines('{"index": 0, "status": "skipped"}\n' for _ in range(MAX_CODE_CELLS))
    notes.clear()
    assert read_run(tmp_path, notes) is None
    assert "lines, over the 20000 limit" in render(notes[0], "en")


def test_a_log_that_is_a_link_or_too_big_is_refused(tmp_path):
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"index": 0, "status": "ok"}\n')
    out = tmp_path / "out"
    out.mkdir()
    (out / RUN_FILE).write_text(json.dumps(SUMMARY))
    (out / CELLS_FILE).symlink_to(secret)
    notes: list[str] = []
    assert read_run(out, notes) is None and "not a regular file" in render(notes[0], "en")
    (out / CELLS_FILE).unlink()
    (out / CELLS_FILE).write_text(("x" * (MAX_LINE_BYTES - 1) + "\n") * 600)
    notes.clear()
    assert read_run(out, notes) is None and "bytes, over the" in render(notes[0], "en")


def test_run_json_in_the_old_whole_record_shape_is_rejected(tmp_path):
    (tmp_path / RUN_FILE).write_text(json.dumps({**SUMMARY, "cells": [], "running": None}))
    notes: list[str] = []
    assert read_run(tmp_path, notes) is None
    assert "run.json written in the sandbox was rejected: cells: Extra inputs" in render(
        notes[0], "en")


@pytest.mark.slow
@needs_sandbox
def test_a_notebook_with_the_most_code_cells_allowed_is_graded(tmp_path, project_copy):
    """About 15 ms a cell on two cores: a few minutes, the time nbclient takes per cell."""
    assignment = with_limits(project_copy, "autograd_derivative",
                             "limits: {total_seconds: 3600, cell_seconds: 600, memory_mb: 4096}")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Many cells")]
    notebook.cells += [nbformat.v4.new_code_cell(f"x_{i} = {i}") for i in range(MAX_CODE_CELLS)]
    path = tmp_path / "many.ipynb"
    nbformat.write(notebook, path)
    report = grade(assignment, path, tmp_path / "out", mode=Mode.check, backend=Bubblewrap())
    assert report.status is Status.graded, report.notes
    assert len(report.execution.cells) == MAX_CODE_CELLS
    assert all(cell.status == "ok" for cell in report.execution.cells)
    executes = next(check for check in report.checks if check.id == "executes")
    assert executes.passed and "all 10000 code cells" in executes.message


# --- which code a record was graded by ---------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def test_a_changed_byte_anywhere_in_the_engine_changes_its_digest(tmp_path):
    copy = tmp_path / "runner"
    shutil.copytree(ROOT / "runner", copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = tree_digest(copy)
    (copy / "__pycache__").mkdir(exist_ok=True)
    (copy / "__pycache__" / "grading.cpython-311.pyc").write_bytes(b"compiled")
    assert tree_digest(copy) == before  # caches are not code
    for module in ("probe/agent.py", "ingest.py", "measurements.py", "scoring.py",
                   "provision.py"):
        source = copy / module
        original = source.read_bytes()
        source.write_bytes(original.replace(b"\n", b" \n", 1))
        assert tree_digest(copy) != before, module
        source.write_bytes(original)
    assert tree_digest(copy) == before
    (copy / "probe" / "agent.py").rename(copy / "probe" / "agent2.py")
    assert tree_digest(copy) != before


def _assignment_copy(root: Path, change=None) -> assignments.Assignment:
    shutil.copytree(ROOT / "assignments", root / "assignments")
    folder = root / "assignments" / "autograd_derivative"
    if change:
        change(folder)
    return assignments.load("autograd_derivative", ProjectPaths(root))


def test_grader_version_follows_the_spec_and_its_data_but_not_the_task_text(tmp_path):
    version = grader_version(_assignment_copy(tmp_path / "a"))
    assert version.startswith(f"{__version__}+")
    assert grader_version(_assignment_copy(tmp_path / "b")) == version  # content, not place

    def retext(folder: Path) -> None:
        (folder / "README.md").write_text("Новый текст задания.\n")

    def repoint(folder: Path) -> None:
        spec = folder / "assignment.yaml"
        spec.write_text(spec.read_text().replace("points: 4", "points: 5"))

    def add_data(folder: Path) -> None:
        (folder / "expected.csv").write_text("x,y\n0,0\n")

    assert grader_version(_assignment_copy(tmp_path / "c", retext)) == version
    assert grader_version(_assignment_copy(tmp_path / "d", repoint)) != version
    assert grader_version(_assignment_copy(tmp_path / "e", add_data)) != version
