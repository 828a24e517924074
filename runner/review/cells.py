"""The cells an answer refers to, from the executed notebook, as data safe to show.

The executed notebook is the student's: any output may be HTML, SVG or JavaScript
written to run in a browser. The review page never shows those. It shows a cell's
source and text outputs as text, and its PNG and JPEG outputs redrawn by the host
(:func:`runner.saved_images.redraw_image`); everything else is named, not shown.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from runner import untrusted_json
from runner.saved_images import redraw_image

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
MAX_TEXT = 6_000  # characters of one output's text
SHOWN_SIDE = 640
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class ShownOutput:
    text: str | None = None  # plain text, to be escaped by the page
    png: str | None = None  # base64 of the host's redrawing
    error: bool = False
    left_out: str | None = None  # a MIME type that is not shown


@dataclass(frozen=True)
class ShownCell:
    index: int
    number: int | None  # among the code cells, counting from 1, as the report does
    source: str
    outputs: list[ShownOutput] = field(default_factory=list)


def read_notebook(path: Path) -> nbformat.NotebookNode | None:
    """The executed notebook, or None when it is missing, too large or not a notebook."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return None
        return nbformat.from_dict(untrusted_json.loads(path.read_bytes()))
    except (OSError, ValueError):
        return None


def shown_cells(notebook: nbformat.NotebookNode | None, indices: list[int]) -> list[ShownCell]:
    if notebook is None:
        return []
    cells = notebook.get("cells", [])
    numbers = {i: n for n, i in enumerate(
        (i for i, c in enumerate(cells) if c.get("cell_type") == "code"), start=1)}
    shown = []
    for index in indices:
        if not 0 <= index < len(cells):
            continue
        cell = cells[index]
        source = _text(cell.get("source", ""))
        outputs = [_output(o) for o in cell.get("outputs", [])[:20]] if isinstance(
            cell.get("outputs"), list) else []
        shown.append(ShownCell(index, numbers.get(index), source, outputs))
    return shown


def _text(value: object) -> str:
    text = "".join(value) if isinstance(value, list) else str(value)
    text = _ANSI.sub("", text)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "\n[…]"


def _output(output: dict) -> ShownOutput:
    kind = output.get("output_type")
    if kind == "stream":
        return ShownOutput(text=_text(output.get("text", "")))
    if kind == "error":
        lines = output.get("traceback") or [f"{output.get('ename')}: {output.get('evalue')}"]
        return ShownOutput(text=_text("\n".join(map(str, lines))), error=True)
    data = output.get("data") or {}
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            try:
                raw = base64.b64decode(_text(data[mime]).strip(), validate=False)
                png, _, _ = redraw_image(raw, SHOWN_SIDE)
                return ShownOutput(png=png)
            except (binascii.Error, ValueError):
                return ShownOutput(left_out=mime)
    if "text/plain" in data:
        return ShownOutput(text=_text(data["text/plain"]))
    return ShownOutput(left_out=", ".join(sorted(map(str, data))) or str(kind or "output"))

