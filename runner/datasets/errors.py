"""Dataset errors a user can act on.

They extend :class:`runner.errors.NngradeError` so the CLI prints message and
hint; ``str()`` includes the hint too, because library callers and tracebacks
show only ``str()`` and the fix matters most there.
"""

from __future__ import annotations

from pathlib import Path

from runner.errors import NngradeError, english
from runner.i18n.message import Message, msg


class DatasetError(NngradeError):
    """Base for dataset problems; ``str()`` is message plus hint."""

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class UnknownDataset(DatasetError, LookupError):
    """No registry entry has this name."""


class DatasetNotFound(DatasetError, FileNotFoundError):
    """No place holds a complete copy; the message lists every place looked, ``summary``
    says in one line what is missing (in English; ``summary_detail`` is the message, to
    render in another language)."""

    def __init__(self, message: str | Message, *, summary: str | Message,
                 hint: str | Message | None = None):
        self.summary_detail = summary
        self.summary = english(summary)
        super().__init__(message, hint=hint)


class ChecksumMismatch(DatasetError, ValueError):
    """A data file's decompressed content is not what the registry says it is.

    ``unreadable`` is the reader's error when the content could not be read at all."""

    def __init__(self, path: Path | str, expected: str, actual: str, *,
                 hint: str | Message | None = None, unreadable: str | None = None):
        self.path = Path(path)
        self.expected = expected
        self.actual = actual
        where = {"path": str(path), "algorithm": "md5" if len(expected) == 32 else "sha256",
                 "expected": expected}
        super().__init__(
            msg("error.checksum.unreadable", **where, error=unreadable) if unreadable is not None
            else msg("error.checksum.mismatch", **where, actual=actual),
            hint=hint or msg("error.checksum.hint"),
        )


class MalformedDataFile(DatasetError, ValueError):
    """A file is not a well-formed IDX (or gzip) file; ``problem`` says how, in English
    (``problem_detail``: the message)."""

    def __init__(self, path: Path | str, problem: str | Message) -> None:
        self.path = Path(path)
        self.problem_detail = problem
        self.problem = english(problem)
        super().__init__(
            msg("error.data_file.malformed", path=str(path), problem=problem),
            hint=msg("error.data_file.hint"),
        )
