"""Errors a user can act on.

Each carries a ``hint``: what to do about it. The CLI prints message and hint in the
reader's language and exits non-zero; nothing else needs to know how to phrase them.
Message and hint are catalogue messages (``msg("error.…", …)``); ``message`` and
``hint`` hold their English rendering, for logs and for code that only needs a line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from runner.i18n.message import Message, msg


class NngradeError(Exception):
    """Base for errors caused by input or environment, not by a bug."""

    exit_code = 2

    def __init__(self, message: str | Message, *, hint: str | Message | None = None) -> None:
        self.detail, self.hint_detail = message, hint
        self.message = english(message)
        self.hint = english(hint) if hint is not None else None
        super().__init__(self.message)

    def in_language(self, language: str) -> tuple[str, str | None]:
        """Message and hint as ``language`` writes them."""
        from runner.i18n.render import render

        hint = self.hint_detail
        return (render(self.detail, language) if not isinstance(self.detail, str)
                else self.detail,
                render(hint, language) if hint is not None and not isinstance(hint, str)
                else hint)


def english(text: str | Message) -> str:
    """``text`` rendered in English (plain text passes through as it is)."""
    if isinstance(text, str):
        return text
    from runner.i18n.catalogue import SOURCE_LANGUAGE
    from runner.i18n.render import render

    return render(text, SOURCE_LANGUAGE)


class SpecError(NngradeError, ValueError):
    """An assignment spec is malformed: which file, which field, what is wrong."""

    @classmethod
    def at(cls, path: Path, field: str | Message, problem: str | Message) -> SpecError:
        """``path: field: problem``; ``field`` may be empty (the file as a whole)."""
        message = (msg("error.spec.field", path=str(path), field=field, problem=problem)
                   if field else msg("error.spec.file", path=str(path), problem=problem))
        return cls(message, hint=msg("error.spec.hint"))


class UnknownAssignment(NngradeError, LookupError):
    """No assignment has this id; suggests the closest ones."""

    @classmethod
    def for_id(cls, assignment_id: str, known: Iterable[str]) -> UnknownAssignment:
        known = sorted(known)
        close = difflib.get_close_matches(assignment_id, known, n=3, cutoff=0.4)
        hint = (msg("error.assignment.suggest", close=close, known=known) if close
                else msg("error.assignment.known", known=known) if known
                else msg("error.assignment.none_installed"))
        return cls(msg("error.assignment.unknown", id=assignment_id), hint=hint)


class NotebookError(NngradeError, ValueError):
    """The submission cannot be read as a Jupyter notebook."""


class SandboxUnavailable(NngradeError, RuntimeError):
    """Grading was asked for but no sandbox can isolate the student's code."""
