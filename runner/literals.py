"""Find large data written into a notebook's code: tables a model could look answers up in.

A notebook may carry (hash of each official test image -> label) as a literal of
some hundred kilobytes and consult it in ``forward()``. Whether a literal is
legitimate is for an instructor to judge; this only measures and says where.
"""

from __future__ import annotations

import io
import re
import tokenize

import nbformat

from runner.i18n.message import Message, msg

LIMIT_CHARS = 20_000
"""Literal data in one code cell beyond which the report notes it."""

_STRINGS = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
_NUMBERS = re.compile(r"(?<![\w.])[-+]?\d[\d_]*(\.\d*)?([eE][-+]?\d+)?")


def literal_chars(source: str) -> int:
    """Characters of string and number literals in Python source (magics tolerated)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return sum(len(m.group()) for m in _STRINGS.finditer(source)) + sum(
            len(m.group()) for m in _NUMBERS.finditer(source))
    return sum(len(t.string) for t in tokens if t.type in (tokenize.STRING, tokenize.NUMBER))


def large_literals(notebook: nbformat.NotebookNode, limit: int = LIMIT_CHARS) -> list[Message]:
    """One note per code cell holding more than ``limit`` characters of literal data."""
    notes = []
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code, start=1):
        size = literal_chars(str(cell.source))
        if size > limit:
            notes.append(msg("note.large_literals", cell=number, kilobytes=round(size / 1000)))
    return notes
