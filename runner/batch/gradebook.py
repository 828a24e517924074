"""The gradebook: one row per (assignment, student), written the moment a grade exists.

SQLite in the batch's output folder by default; any SQLAlchemy URL (PostgreSQL, say)
for a gradebook shared by several machines. Each row is written in one transaction,
so a batch killed at any moment leaves every finished grade and no half-written row.
A row remembers which submission (content hash) and which grader version produced
it: that is what lets a rerun skip work already done.
"""

from __future__ import annotations

import json
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
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

metadata = MetaData()
results = Table(
    "results", metadata,
    Column("id", Integer, primary_key=True),
    Column("assignment", String(200), nullable=False),
    Column("student", String(300), nullable=False),
    Column("full_name", String(300)),
    Column("participant", String(50)),
    Column("submission_sha256", String(64)),
    Column("grader_version", String(100), nullable=False),
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

    def is_current(self, sha256: str | None, grader_version: str) -> bool:
        """Made from exactly this submission by this grader: no need to grade it again."""
        return (self.status != "problem" and sha256 is not None
                and self.submission_sha256 == sha256 and self.grader_version == grader_version)


def default_url(out_dir: Path) -> str:
    return f"sqlite:///{(out_dir / 'gradebook.sqlite').resolve()}"


class Gradebook:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        metadata.create_all(self.engine)

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


def _grade(row) -> Grade:
    values = dict(row)
    values.pop("id", None)
    values["checks"] = tuple(json.loads(values["checks"] or "[]"))
    return Grade(**values)
