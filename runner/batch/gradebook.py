"""The gradebook: one row per (assignment, student), written the moment a grade exists.

SQLite in the batch's output folder by default; any SQLAlchemy URL (PostgreSQL, say)
for a gradebook shared by several machines. Each row is written in one transaction,
so a batch killed at any moment leaves every finished grade and no half-written row.
A row remembers which submission (content hash) and which grader version produced
it: that is what lets a rerun skip work already done.

The instructor's grades of written answers live in a table of their own
(``manual_grades``), which grading never writes: a rerun or a regrade cannot overwrite
them. Each one remembers the answer it was given for (by its fingerprint), who gave it
and when, and a revision number, so two instructors grading at once cannot silently
overwrite each other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from runner.report.model import CheckOutcome

metadata = MetaData()
results = Table(
    "results", metadata,
    Column("id", Integer, primary_key=True),
    Column("assignment", String(200), nullable=False),
    Column("student", String(300), nullable=False),
    Column("full_name", String(300)),
    Column("participant", String(50)),
    Column("submission_sha256", String(64)),
    Column("grader_version", String(100), nullable=False),  # the one that scored
    Column("measured_by", String(100)),  # the one that ran the notebook (rescore keeps it)
    Column("status", String(20), nullable=False),  # graded, partial, failed, problem
    Column("score", Float, nullable=False, default=0.0),
    Column("max_score", Float, nullable=False, default=0.0),
    Column("checks", Text, nullable=False, default="[]"),  # JSON: id, points, max_points
    Column("problem", Text),
    Column("report_dir", Text),
    Column("seconds", Float, nullable=False, default=0.0),
    Column("graded_at", String(40), nullable=False),
    UniqueConstraint("assignment", "student", name="one_grade_per_student"),
)

manual_grades = Table(
    "manual_grades", metadata,
    Column("id", Integer, primary_key=True),
    Column("assignment", String(200), nullable=False),
    Column("student", String(300), nullable=False),
    Column("item", String(100), nullable=False),
    Column("points", Float, nullable=False),
    Column("level", Integer),  # index into the item's levels, when one was picked
    Column("comment", Text, nullable=False, default=""),
    Column("grader", String(200), nullable=False),
    Column("graded_at", String(40), nullable=False),
    Column("answer_sha256", String(64), nullable=False),
    Column("revision", Integer, nullable=False),
    UniqueConstraint("assignment", "student", "item", name="one_manual_grade_per_item"),
)


@dataclass(frozen=True)
class ManualGrade:
    """An instructor's grade of one written answer."""

    assignment: str
    student: str
    item: str
    points: float
    grader: str
    answer_sha256: str
    level: int | None = None
    comment: str = ""
    graded_at: str = ""
    revision: int = 1


class StaleRevision(Exception):
    """Someone else saved this grade since it was read: here is theirs."""

    def __init__(self, current: ManualGrade | None) -> None:
        super().__init__("the grade was changed by someone else since it was read")
        self.current = current


@dataclass(frozen=True)
class Grade:
    """What the gradebook holds for one student."""

    assignment: str
    student: str
    grader_version: str
    status: str
    score: float = 0.0
    max_score: float = 0.0
    checks: tuple[dict, ...] = ()
    submission_sha256: str | None = None
    problem: str | None = None
    report_dir: str | None = None
    seconds: float = 0.0
    full_name: str | None = None
    participant: str | None = None
    graded_at: str = ""
    measured_by: str | None = None

    def is_current(self, sha256: str | None, grader_version: str) -> bool:
        """Made from exactly this submission by this grader: no need to grade it again."""
        return (self.status != "problem" and sha256 is not None
                and self.submission_sha256 == sha256 and self.grader_version == grader_version)


def check_rows(checks: Iterable[CheckOutcome]) -> tuple[dict, ...]:
    """A report's check outcomes as the gradebook keeps them."""
    return tuple({"id": c.id, "points": c.points, "max_points": c.max_points,
                  "passed": c.passed} for c in checks)


def default_url(out_dir: Path) -> str:
    return f"sqlite:///{(out_dir / 'gradebook.sqlite').resolve()}"


class Gradebook:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        metadata.create_all(self.engine)
        _add_missing_columns(self.engine)

    def get(self, assignment: str, student: str) -> Grade | None:
        query = select(results).where(results.c.assignment == assignment,
                                      results.c.student == student)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _grade(row) if row else None

    def all(self, assignment: str) -> list[Grade]:
        query = select(results).where(results.c.assignment == assignment).order_by(
            results.c.student)
        with self.engine.connect() as connection:
            return [_grade(row) for row in connection.execute(query).mappings()]

    def put(self, grade: Grade) -> Grade:
        """Insert or replace the student's row, in one transaction.

        Two machines sharing a gradebook may write the same student at once; the loser
        of that race sees the unique constraint fail and simply replaces the row again.
        """
        values = {**grade.__dict__, "checks": json.dumps(list(grade.checks)),
                  "graded_at": grade.graded_at or datetime.now(UTC).isoformat()}
        for attempt in range(3):
            try:
                with self.engine.begin() as connection:
                    connection.execute(results.delete().where(
                        results.c.assignment == grade.assignment,
                        results.c.student == grade.student))
                    connection.execute(results.insert().values(**values))
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        return Grade(**{**values, "checks": grade.checks})

    def is_current(self, assignment: str, student: str, sha256: str | None,
                   grader_version: str) -> bool:
        """A grade exists for exactly this submission and this grader: no need to regrade."""
        grade = self.get(assignment, student)
        return grade is not None and grade.is_current(sha256, grader_version)


    def manual(self, assignment: str, student: str | None = None
               ) -> dict[tuple[str, str], ManualGrade]:
        """The instructor's grades, by (student, item)."""
        query = select(manual_grades).where(manual_grades.c.assignment == assignment)
        if student is not None:
            query = query.where(manual_grades.c.student == student)
        with self.engine.connect() as connection:
            rows = [_manual(row) for row in connection.execute(query).mappings()]
        return {(row.student, row.item): row for row in rows}

    def put_manual(self, grade: ManualGrade, *, seen_revision: int) -> ManualGrade:
        """Save ``grade`` if the stored one is still revision ``seen_revision`` (0: none yet).

        One statement decides, in the database: a grade saved meanwhile by someone else
        raises :class:`StaleRevision` with theirs, rather than being overwritten.
        """
        values = {**grade.__dict__, "revision": seen_revision + 1,
                  "graded_at": datetime.now(UTC).isoformat(timespec="seconds")}
        key = (manual_grades.c.assignment == grade.assignment,
               manual_grades.c.student == grade.student, manual_grades.c.item == grade.item)
        try:
            with self.engine.begin() as connection:
                if seen_revision == 0:
                    connection.execute(manual_grades.insert().values(**values))
                else:
                    done = connection.execute(manual_grades.update().where(
                        *key, manual_grades.c.revision == seen_revision).values(**values))
                    if done.rowcount != 1:
                        raise StaleRevision(None)
        except (IntegrityError, StaleRevision):
            current = self.manual(grade.assignment, grade.student).get(
                (grade.student, grade.item))
            raise StaleRevision(current) from None
        return ManualGrade(**values)

    def comments(self, assignment: str, item: str) -> list[str]:
        """Comments given before for this item, the most used first."""
        query = (select(manual_grades.c.comment, func.count().label("uses"))
                 .where(manual_grades.c.assignment == assignment, manual_grades.c.item == item,
                        manual_grades.c.comment != "")
                 .group_by(manual_grades.c.comment)
                 .order_by(func.count().desc(), manual_grades.c.comment))
        with self.engine.connect() as connection:
            return [row.comment for row in connection.execute(query)]


def _add_missing_columns(engine: Engine) -> None:
    """Columns added since a gradebook was made: added to it, empty, so it stays usable."""
    present = {column["name"] for column in inspect(engine).get_columns("results")}
    with engine.begin() as connection:
        for column in results.columns:
            if column.name not in present and column.nullable:
                kind = column.type.compile(engine.dialect)
                connection.execute(text(f'ALTER TABLE results ADD COLUMN "{column.name}" {kind}'))


def _manual(row) -> ManualGrade:
    values = dict(row)
    values.pop("id", None)
    return ManualGrade(**values)


def _grade(row) -> Grade:
    values = dict(row)
    values.pop("id", None)
    values["checks"] = tuple(json.loads(values["checks"] or "[]"))
    return Grade(**values)
