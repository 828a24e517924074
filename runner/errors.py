"""Errors a user can act on.

Each carries a ``hint``: what to do about it. The CLI prints message and hint
and exits non-zero; nothing else needs to know how to phrase them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class NngradeError(Exception):
    """Base for errors caused by input or environment, not by a bug."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class SpecError(NngradeError, ValueError):
    """An assignment spec is malformed: which file, which field, what is wrong."""

    @classmethod
    def at(cls, path: Path, field: str, problem: str) -> SpecError:
        where = f"{path}: {field}" if field else str(path)
        hint = "Fix the spec and run `nngrade show ID` to check it."
        return cls(f"{where}: {problem}", hint=hint)


class UnknownAssignment(NngradeError, LookupError):
    """No assignment has this id; suggests the closest ones."""

    @classmethod
    def for_id(cls, assignment_id: str, known: Iterable[str]) -> UnknownAssignment:
        known = sorted(known)
        close = difflib.get_close_matches(assignment_id, known, n=3, cutoff=0.4)
        hint = (f"Did you mean {', '.join(close)}? " if close else "") + (
            "Known assignments: " + ", ".join(known) if known else "No assignments are installed."
        )
        return cls(f"unknown assignment {assignment_id!r}", hint=hint)


class NotebookError(NngradeError, ValueError):
    """The submission cannot be read as a Jupyter notebook."""


class SandboxUnavailable(NngradeError, RuntimeError):
    """Grading was asked for but no sandbox can isolate the student's code."""
