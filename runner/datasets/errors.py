"""Dataset errors a user can act on.

They extend :class:`runner.errors.NngradeError` so the CLI prints message and
hint; ``str()`` includes the hint too, because library callers and tracebacks
show only ``str()`` and the fix matters most there.
"""

from __future__ import annotations

from pathlib import Path

from runner.errors import NngradeError


class DatasetError(NngradeError):
    """Base for dataset problems; ``str()`` is message plus hint."""

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class UnknownDataset(DatasetError, LookupError):
    """No registry entry has this name."""


class DatasetNotFound(DatasetError, FileNotFoundError):
    """No place holds a complete copy; the message lists every place looked, ``summary``
    says in one line what is missing."""

    def __init__(self, message: str, *, summary: str, hint: str | None = None):
        self.summary = summary
        super().__init__(message, hint=hint)


class ChecksumMismatch(DatasetError, ValueError):
    """A data file's decompressed content is not what the registry says it is."""

    def __init__(self, path: Path | str, expected: str, actual: str, *, hint: str | None = None):
        self.path = Path(path)
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"checksum mismatch for {path}: expected "
            f"{'md5' if len(expected) == 32 else 'sha256'} {expected}, got {actual}",
            hint=hint
            or "The file is corrupt or is not the dataset it is named after; delete it or "
            "replace it with an intact copy.",
        )


class MalformedDataFile(DatasetError, ValueError):
    """A file is not a well-formed IDX (or gzip) file."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(
            f"{path}: {problem}",
            hint="Replace the file with an intact copy of the dataset.",
        )
