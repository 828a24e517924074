"""Read a submission and make it runnable offline without changing what it computes."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from runner.errors import NotebookError

MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024

# Lines that cannot work offline, or would hang, and change nothing the grader measures.
_NEUTRALISED = [
    (re.compile(r"^\s*[!%]\s*(pip3?|conda|mamba|apt(-get)?|uv)\b"), "package installs are not run"),
    (re.compile(r"^\s*(from\s+google\.colab\b|import\s+google\.colab\b)"),
     "Colab modules do not exist outside Colab"),
    (re.compile(r"^\s*drive\.(mount|flush_and_unmount)\s*\("),
     "Google Drive is not reachable; nothing on it is needed"),
]


@dataclass
class Submission:
    path: Path
    notebook: nbformat.NotebookNode
    sha256: str
    neutralised: list[str] = field(default_factory=list)


def read_submission(path: Path) -> Submission:
    """Read and validate ``path``; raise NotebookError saying what is wrong and what to do."""
    if not path.exists():
        raise NotebookError(f"{path}: no such file", hint="Check the path to the notebook.")
    if path.is_dir():
        raise NotebookError(f"{path}: is a folder, not a notebook",
                            hint="Pass the .ipynb file itself.")
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path}: {size // 2**20} MiB, over the "
                            f"{MAX_NOTEBOOK_BYTES // 2**20} MiB limit for a notebook",
                            hint="Clear the outputs (Kernel > Restart & Clear Output) and save.")
    data = path.read_bytes()
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        where = f" (line {error.lineno}, column {error.colno})" if hasattr(error, "lineno") else ""
        raise NotebookError(f"{path}: not a Jupyter notebook: not valid JSON{where}",
                            hint="Save the notebook from Jupyter/Colab as .ipynb, "
                                 "not as .py or .html.") from None
    if not isinstance(raw, dict) or "cells" not in raw:
        raise NotebookError(f"{path}: JSON, but not a Jupyter notebook (no 'cells')",
                            hint="Save the notebook from Jupyter/Colab as .ipynb.")
    try:
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several unrelated types
        raise NotebookError(f"{path}: not a valid notebook: {str(error).splitlines()[0]}",
                            hint="Open it in Jupyter and save it again.") from None
    return Submission(path, notebook, hashlib.sha256(data).hexdigest())


def neutralise(submission: Submission) -> None:
    """Replace lines that need the internet or Colab by ``pass`` and note each one."""
    for cell_number, cell in enumerate(submission.notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines()
        for line_number, line in enumerate(lines, start=1):
            reason = next((why for pattern, why in _NEUTRALISED if pattern.search(line)), None)
            if reason is None:
                continue
            indent = line[: len(line) - len(line.lstrip())]
            lines[line_number - 1] = f"{indent}pass  # nngrade: not run ({reason}): {line.strip()}"
            submission.neutralised.append(
                f"cell {cell_number}, line {line_number}: `{line.strip()}` ({reason})")
        cell.source = "\n".join(lines)
