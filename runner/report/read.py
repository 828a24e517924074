"""Read a ``report.json`` back, with errors that say which file and what is wrong."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from runner.errors import NngradeError
from runner.i18n.message import msg
from runner.report.model import REPORT_SCHEMA_VERSION, Report

MAX_REPORT_BYTES = 64 * 1024 * 1024


def read_report(path: Path) -> Report:
    """The report in ``path``; NngradeError if it is missing, too large or not a report."""
    if not path.is_file():
        raise NngradeError(msg("cli.report.missing", path=str(path)),
                           hint=msg("cli.report.missing.hint"))
    if path.stat().st_size > MAX_REPORT_BYTES:
        raise NngradeError(msg("cli.report.too_big", path=str(path),
                               limit=MAX_REPORT_BYTES // 2**20))
    try:
        report = Report.model_validate_json(path.read_bytes())
    except ValidationError as error:
        problem = error.errors()[0]
        where = (".".join(str(part) for part in problem["loc"])
                 or msg("cli.report.unreadable.where"))
        raise NngradeError(msg("cli.report.unreadable", path=str(path), where=where,
                               problem=problem["msg"]),
                           hint=msg("cli.report.unreadable.hint")) from error
    if report.schema_version > REPORT_SCHEMA_VERSION:
        raise NngradeError(msg("cli.report.newer", path=str(path), found=report.schema_version,
                               supported=REPORT_SCHEMA_VERSION),
                           hint=msg("cli.report.newer.hint"))
    return report
