"""Write a report's three files so that a reader never sees a half-written one.

Everything is rendered before anything is written, so a rendering bug leaves
the previous set of files intact; each file then lands by ``os.replace``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from runner.report.html import render_html
from runner.report.markdown import render_markdown
from runner.report.model import Report

REPORT_FILES = {"json": "report.json", "markdown": "report.md", "html": "report.html"}


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one step; never leaves a partial file."""
    write_atomic_bytes(path, text.encode("utf-8"))


def write_atomic_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step; never leaves a partial file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write report.json, report.md and report.html into ``out_dir``; keys as in REPORT_FILES."""
    texts = {
        "json": report.model_dump_json(indent=2) + "\n",
        "markdown": render_markdown(report),
        "html": render_html(report),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {key: out_dir / name for key, name in REPORT_FILES.items()}
    for key, path in paths.items():
        write_atomic(path, texts[key])
    return paths
