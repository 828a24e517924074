"""Read a submission and make it runnable offline without changing what it computes."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from runner import untrusted_json
from runner.errors import NotebookError
from runner.i18n.message import msg
from runner.names import printable

MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024
# Each code cell costs a record on both sides of the sandbox; a homework has a few hundred.
MAX_CODE_CELLS = 10_000
SANDBOX_NAME = "submission.ipynb"
# Names kept as they are inside the sandbox; anything odder runs as SANDBOX_NAME.
_PLAIN_NAME = re.compile(r"[^\W_][\w .,()+=-]{0,99}")
# A JSON escape of a UTF-16 surrogate: valid JSON, but a lone one is not valid Unicode.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")

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

    @property
    def sandbox_name(self) -> str:
        """The name of the job's copy: the original when it is plain, else SANDBOX_NAME."""
        stem, suffix = os.path.splitext(self.path.name)
        plain = suffix == ".ipynb" and _PLAIN_NAME.fullmatch(stem) and stem.isprintable()
        return self.path.name if plain else SANDBOX_NAME


def display_name(path: Path) -> str:
    """``path``'s name as reports show it: undecodable bytes and control characters escaped."""
    return printable(path.name)


def read_submission(path: Path) -> Submission:
    """Read and validate ``path``; raise NotebookError saying what is wrong and what to do."""
    shown = printable(str(path))
    if not path.exists():
        raise NotebookError(msg("error.notebook.missing", path=shown),
                            hint=msg("error.notebook.missing.hint"))
    if path.is_dir():
        raise NotebookError(msg("error.notebook.folder", path=shown),
                            hint=msg("error.notebook.folder.hint"))
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(msg("error.notebook.too_large", path=shown, size=size // 2**20,
                                limit=MAX_NOTEBOOK_BYTES // 2**20),
                            hint=msg("error.notebook.too_large.hint"))
    data = path.read_bytes()
    _check_json(shown, data)
    try:
        notebook = nbformat.reads(data.decode("utf-8-sig"), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several unrelated types
        why = (str(error).splitlines() or [type(error).__name__])[0]
        raise NotebookError(msg("error.notebook.invalid", path=shown, error=why),
                            hint=msg("error.notebook.save_again")) from None
    return Submission(path, notebook, hashlib.sha256(data).hexdigest())


def _check_json(shown: str, data: bytes) -> None:
    """Refuse what is not a notebook's JSON, or would trip nbformat or the run later."""
    try:
        raw = untrusted_json.loads(data)
    except untrusted_json.UntrustedJSONError as error:
        raise NotebookError(msg("error.notebook.not_json", path=shown, problem=error.detail),
                            hint=msg("error.notebook.not_json.hint")) from None
    if not isinstance(raw, dict) or "cells" not in raw:
        raise NotebookError(msg("error.notebook.no_cells", path=shown),
                            hint=msg("error.notebook.no_cells.hint"))
    cells = raw["cells"]
    code = sum(isinstance(c, dict) and c.get("cell_type") == "code"
               for c in (cells if isinstance(cells, list) else []))
    if code > MAX_CODE_CELLS:
        raise NotebookError(msg("error.notebook.too_many_cells", path=shown, n=code,
                                limit=MAX_CODE_CELLS),
                            hint=msg("error.notebook.too_many_cells.hint"))
    if _SURROGATE_ESCAPE.search(data):
        try:
            json.dumps(raw, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise NotebookError(msg("error.notebook.surrogate", path=shown),
                                hint=msg("error.notebook.save_again")) from None


def clear_outputs(submission: Submission) -> None:
    """Drop saved outputs, so the graded notebook shows only what ran here, within its limit."""
    for cell in submission.notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def neutralise(submission: Submission) -> None:
    """Replace lines that need the internet or Colab by ``pass`` and note each one."""
    code_cells = (cell for cell in submission.notebook.cells if cell.cell_type == "code")
    for cell_number, cell in enumerate(code_cells, start=1):  # as the report numbers them
        lines = cell.source.splitlines()
        for line_number, line in enumerate(lines, start=1):
            reason = next((why for pattern, why in _NEUTRALISED if pattern.search(line)), None)
            if reason is None:
                continue
            indent = line[: len(line) - len(line.lstrip())]
            lines[line_number - 1] = f"{indent}pass  # nngrade: not run ({reason}): {line.strip()}"
            submission.neutralised.append(
                f"code cell {cell_number}, line {line_number}: `{line.strip()}` ({reason})")
        cell.source = "\n".join(lines)
