"""Read a ``report.json`` back, with errors that say which file and what is wrong."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from runner.errors import NngradeError
from runner.report.model import REPORT_SCHEMA_VERSION, Report

MAX_REPORT_BYTES = 64 * 1024 * 1024


def read_report(path: Path) -> Report:
    """The report in ``path``; NngradeError if it is missing, too large or not a report."""
    if not path.is_file():
        raise NngradeError(f"{path}: no such file",
                           hint="Give the report.json in a folder that `nngrade grade`, "
                                "`check` or `batch` wrote.")
    if path.stat().st_size > MAX_REPORT_BYTES:
        raise NngradeError(f"{path}: over {MAX_REPORT_BYTES // 2**20} MiB, not a report")
    try:
        report = Report.model_validate_json(path.read_bytes())
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the file"
        raise NngradeError(f"{path}: not a report nngrade can read ({where}: {problem['msg']})",
                           hint="Was it written by nngrade? Reports of another version may "
                                "need that version.") from error
    if report.schema_version > REPORT_SCHEMA_VERSION:
        raise NngradeError(f"{path}: report schema {report.schema_version} is newer than this "
                           f"nngrade's ({REPORT_SCHEMA_VERSION})",
                           hint="Update nngrade to read it.")
    return report
