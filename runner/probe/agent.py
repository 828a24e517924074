"""Run a notebook cell by cell inside the sandbox, then let the probe measure it.

Started as ``python -m nngrade_probe.agent JOB_JSON`` by a sandbox backend.
It appends a line to a cell log as each code cell starts and ends (so a kill
loses nothing already known, and 10,000 cells cost 20,000 short appends, not
10,000 rewrites of a growing file), writes ``run.json`` (how the run ended) at
the start and the end, the executed notebook at the end, and one JSON line per
event to a progress file the host shows. Everything it writes is untrusted on
the host: the student's kernel runs as the same user and could rewrite it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

TIMEOUT_ENAME = "CellTimeoutError"
STOPPED_TOTAL_TIME = "total_time"  # run.json's "stopped": a code the host puts in words
CELLS_FILE = "cells.jsonl"  # next to run.json; the host's runner.measurements.CELLS_FILE
TRUNCATION_NOTE = "\n[nngrade: output limit reached; further output of this notebook dropped]\n"


class CappedClient(NotebookClient):
    """A NotebookClient that stops keeping outputs past a byte budget."""

    def __init__(self, nb: Any, *, output_limit: int, **kwargs: Any) -> None:
        super().__init__(nb, **kwargs)
        self._output_left = output_limit
        self._truncated = False

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
        size = len(json.dumps(msg.get("content", {}), default=str))
        if size <= self._output_left:
            self._output_left -= size
            return super().output(outs, msg, display_id, cell_index)
        if not self._truncated:
            self._truncated = True
            note = nbformat.v4.new_output("stream", name="stderr", text=TRUNCATION_NOTE)
            outs.append(note)
        return None


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


class JsonLines:
    """An append-only file of JSON lines, each flushed as it is written."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8", buffering=1)

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record) + "\n")


class Progress(JsonLines):
    def emit(self, event: str, **fields: Any) -> None:
        self.write({"event": event, "time": time.time(), **fields})


def _error_text(error: CellExecutionError) -> str:
    """The error's first line, at most 500 characters.

    Lone surrogates (an undecodable file name in the message) are escaped first:
    the host's strict JSON parser would reject the whole cell log for one.
    """
    evalue = (error.evalue or "").strip().splitlines()
    text = f"{error.ename}: {evalue[0] if evalue else ''}".strip(": ")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:500]


def run(job_path: Path) -> int:
    root = job_path.parent
    job = json.loads(job_path.read_text(encoding="utf-8"))
    started = time.monotonic()
    deadline = started + float(job["execution_seconds"])
    nb = nbformat.read(root / job["notebook"], as_version=4)
    code_cells = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    for index in code_cells:  # the executed notebook shows only what ran here
        nb.cells[index].outputs = []
        nb.cells[index].execution_count = None
    run_file = root / job["run"]
    cells = JsonLines(run_file.with_name(CELLS_FILE))
    record: dict[str, Any] = {"stopped": None, "probe_finished": False, "probe_error": None,
                              "seconds": 0.0}
    _write_json(run_file, record)
    progress = Progress(root / job["progress"])
    client = CappedClient(
        nb, output_limit=int(job["output_limit_bytes"]), timeout=int(job["cell_seconds"]),
        interrupt_on_timeout=True, allow_errors=False, kernel_name="python3",
        error_on_timeout={"ename": TIMEOUT_ENAME, "evalue": "the cell ran past its time limit",
                          "traceback": []},
        resources={"metadata": {"path": str(root / job["cwd"])}},
    )
    progress.emit("start", cells=len(code_cells))
    with client.setup_kernel():
        kernel_alive = _run_cells(client, nb, code_cells, deadline, job, record, cells,
                                  progress)
        if kernel_alive:
            _finish(client, nb, job, record, progress)
    record["seconds"] = time.monotonic() - started
    _write_json(run_file, record)
    nbformat.write(nb, root / job["executed"])
    progress.emit("done")
    return 0


def _run_cells(client: CappedClient, nb: Any, code_cells: list[int], deadline: float,
               job: dict, record: dict, cells: JsonLines, progress: Progress) -> bool:
    """Execute code cells in order until the first failure; return whether the kernel lives."""
    for position, index in enumerate(code_cells):
        remaining = deadline - time.monotonic()
        if remaining <= 1:
            record["stopped"] = STOPPED_TOTAL_TIME
            _skip(cells, code_cells[position:])
            return True
        client.timeout = int(min(float(job["cell_seconds"]), remaining))
        progress.emit("cell", index=index, position=position)
        cells.write({"index": index, "status": "running"})
        began = time.monotonic()
        entry: dict[str, Any] = {"index": index, "status": "ok", "error": None}
        try:
            client.execute_cell(nb.cells[index], index)
        except CellExecutionError as error:
            timed_out = error.ename == TIMEOUT_ENAME
            entry["status"] = "timeout" if timed_out else "error"
            entry["error"] = (f"ran past its {client.timeout} s limit" if timed_out
                              else _error_text(error))
            if timed_out:
                entry["limit_seconds"] = client.timeout
        except DeadKernelError:
            entry["status"] = "kernel-died"
            entry["error"] = "the kernel died (out of memory, a crash or os._exit)"
        entry["seconds"] = round(time.monotonic() - began, 3)
        # The [N] beside the cell is the number the report gives it ("code cell N"), also
        # where nbclient skipped an empty cell without counting it.
        nb.cells[index].execution_count = position + 1
        cells.write(entry)
        if entry["status"] != "ok":
            _skip(cells, code_cells[position + 1:])
            return entry["status"] != "kernel-died"
    return True


def _skip(cells: JsonLines, indices: list[int]) -> None:
    for index in indices:
        cells.write({"index": index, "status": "skipped", "error": None, "seconds": None})


def _finish(client: CappedClient, nb: Any, job: dict, record: dict, progress: Progress) -> None:
    """Run the probe's measurement in the student's kernel, in a cell not saved to the notebook."""
    progress.emit("measure")
    cell = nbformat.v4.new_code_cell(job["finish_code"])
    nb.cells.append(cell)
    client.timeout = int(job["finish_seconds"])
    try:
        client.execute_cell(cell, len(nb.cells) - 1, store_history=False)
        record["probe_finished"] = True
    except CellExecutionError as error:
        record["probe_error"] = _error_text(error)
    except DeadKernelError:
        record["probe_kernel_died"] = True
    finally:
        nb.cells.pop()


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1]).resolve()))
