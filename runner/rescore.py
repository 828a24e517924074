"""Apply the current checks, thresholds and points to a graded class, without running it.

Each student's report folder keeps what scoring saw (:mod:`runner.scoring_record`);
rescoring applies today's checks to it, rewrites the report and the gradebook row
(which then names the grader that scored and, unchanged, the one that measured), and
rewrites the class files. A student whose measurements are missing, unreadable, or
were collected under other ``collect``/``limits`` settings or datasets is listed as
needing a rerun (``nngrade batch --regrade``), and left as they were.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

from runner import assignments
from runner.batch.class_files import (
    ClassInfo,
    gradebook_url,
    read_class_info,
    write_class_files,
)
from runner.batch.gradebook import Gradebook, check_rows
from runner.grading import grader_version
from runner.i18n.message import Message, msg
from runner.report.model import Mode
from runner.report.write import write_report
from runner.review.state import class_state
from runner.scoring import score, totals
from runner.scoring_record import collection_key, read_record


@dataclass(frozen=True)
class Change:
    student: str
    before: float
    after: float


@dataclass
class RescoreResult:
    info: ClassInfo
    changed: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    needs_rerun: dict[str, Message] = field(default_factory=dict)
    seconds: float = 0.0


def rescore_class(out_dir: Path, *, gradebook: str | None = None) -> RescoreResult:
    """Rescore every graded student of the class in ``out_dir``; see the module's text."""
    started = time.monotonic()
    info = read_class_info(out_dir)
    assignment = assignments.load(info.assignment)
    spec = assignment.spec
    book = Gradebook(gradebook_url(info, gradebook))
    version = grader_version(assignment)
    key = collection_key(spec)
    result = RescoreResult(info)
    students = set(info.students) if info.students else None
    for state in class_state(spec, book, out_dir, students):
        grade, report = state.grade, state.report
        if report is None:
            continue  # a problem row: nothing was measured
        folder = out_dir / grade.report_dir
        record = read_record(folder)
        if record is None:
            result.needs_rerun[grade.student] = msg("rescore.reason.no_record")
            continue
        if record.collected != key:
            result.needs_rerun[grade.student] = msg("rescore.reason.collect_changed")
            continue
        checks = score(assignment, record.context, Mode(record.mode), report.language)
        total, top = totals(checks)
        rescored = report.model_copy(update={
            "checks": checks, "score": total, "max_score": top,
            "grader_version": version, "measured_by": report.measured_by or record.measured_by})
        write_report(rescored, folder)
        book.put(dataclasses.replace(
            grade, score=total, max_score=top, grader_version=version,
            measured_by=grade.measured_by or record.measured_by, graded_at="",
            checks=check_rows(checks)))
        if abs(total - grade.score) > 1e-9 or top != grade.max_score:
            result.changed.append(Change(grade.student, grade.score, total))
        else:
            result.unchanged.append(grade.student)
    write_class_files(spec, book, out_dir, info)
    result.seconds = time.monotonic() - started
    return result
