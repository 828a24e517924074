"""Everything a class's output folder holds besides the reports, written from the gradebook.

``grades.csv``, ``moodle_grades.csv``, ``summary.html`` and each student's
``results.json`` are made here, from the gradebook's automatic grades joined with the
instructor's grades of written answers, so ``nngrade batch`` (after grading),
``nngrade review`` (after each grade) and ``nngrade rescore`` write the same files the
same way. ``class.json`` says which assignment and gradebook the folder belongs to,
so the review and rescore commands need only the folder; ``similar_pairs.json`` keeps
the batch's similarity ranking for the summary written later.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.engine import make_url

from runner.batch.exports import (
    write_grades_csv,
    write_gradescope_results,
    write_moodle_worksheet,
)
from runner.batch.gradebook import Gradebook
from runner.batch.similarity import SimilarPair
from runner.batch.summary import SUMMARY_FILE, write_summary
from runner.errors import NngradeError
from runner.i18n.message import msg
from runner.report.write import write_atomic
from runner.review.state import ReportCache, StudentState, class_state
from runner.spec import AssignmentSpec

CLASS_FILE = "class.json"
PAIRS_FILE = "similar_pairs.json"


class ClassInfo(BaseModel):
    """What ``class.json`` records about a class's output folder."""

    assignment: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    gradebook: str = Field(description="The gradebook's SQLAlchemy URL, its password "
                           "masked: `--db` gives it again.")
    language: str = Field("en", pattern=r"^[a-z]{2}$")
    students: list[str] = Field(default_factory=list, description="Of the last batch.")


@dataclass(frozen=True)
class ClassFiles:
    grades_csv: Path
    moodle: Path
    moodle_without_id: int
    summary: Path
    states: list[StudentState]


def write_class_info(out_dir: Path, info: ClassInfo) -> Path:
    """Write ``class.json``; a password in the gradebook's URL is never written."""
    masked = make_url(info.gradebook).render_as_string(hide_password=True)
    path = out_dir / CLASS_FILE
    write_atomic(path, info.model_copy(update={"gradebook": masked}).model_dump_json(indent=1))
    return path


def gradebook_url(info: ClassInfo, given: str | None) -> str:
    """The gradebook to open: ``given`` (``--db``), else the one ``class.json`` names,
    unless its password was masked there."""
    if given:
        return given
    if make_url(info.gradebook).password is not None:
        raise NngradeError(msg("error.class.db_password", url=info.gradebook),
                           hint=msg("error.class.db_password.hint"))
    return info.gradebook


def read_class_info(out_dir: Path) -> ClassInfo:
    """The folder's ``class.json``; an error that says what to run when it is missing."""
    path = out_dir / CLASS_FILE
    if not path.is_file():
        raise NngradeError(msg("error.class.missing", path=str(out_dir)),
                           hint=msg("error.class.missing.hint"))
    try:
        return ClassInfo.model_validate_json(path.read_bytes())
    except ValidationError as error:
        raise NngradeError(msg("error.class.unreadable", path=str(path),
                               problem=str(error.errors()[0]["msg"]))) from error


def write_pairs(out_dir: Path, pairs: list[SimilarPair]) -> None:
    write_atomic(out_dir / PAIRS_FILE, json.dumps([asdict(p) for p in pairs], indent=1))


def read_pairs(out_dir: Path) -> list[SimilarPair]:
    try:
        return [SimilarPair(**p) for p in json.loads((out_dir / PAIRS_FILE).read_text())]
    except (OSError, ValueError, TypeError):
        return []


def write_class_files(spec: AssignmentSpec, book: Gradebook, out_dir: Path, info: ClassInfo,
                      *, results_for: set[str] | None = None, summary: bool = True,
                      cache: ReportCache | None = None) -> ClassFiles:
    """Write the class files for the students of the last batch.

    Every student's ``results.json`` is rewritten, or only those in ``results_for``; the
    summary page (which reads every report again for its grids) only with ``summary``.
    """
    students = set(info.students) if info.students else None
    states = class_state(spec, book, out_dir, students, cache)
    grades = [state.combined(spec, info.language) for state in states]
    needs = {state.grade.student: state.needs_review for state in states}
    for state, grade in zip(states, grades, strict=True):
        if state.report is None or (results_for is not None
                                    and state.grade.student not in results_for):
            continue
        manual = [c for c in grade.checks if c.get("manual")]
        write_gradescope_results(state.report, out_dir / state.grade.report_dir,
                                 info.language, manual)
    csv_path = write_grades_csv(spec, grades, out_dir, needs)
    moodle, without_id = write_moodle_worksheet(grades, out_dir, language=info.language)
    summary_path = out_dir / SUMMARY_FILE
    if summary:
        write_summary(spec, grades, read_pairs(out_dir), out_dir, language=info.language)
    return ClassFiles(csv_path, moodle, without_id, summary_path, states)
