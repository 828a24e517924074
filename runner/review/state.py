"""Where each student's written answers stand: found or not, graded or not, changed since.

The automatic grade (the gradebook's ``results`` row) and the instructor's grades
(``manual_grades``) are kept apart, so grading never overwrites a manual grade; this
module joins them for everything a person reads: the review pages, ``grades.csv``, the
Moodle worksheet, Gradescope's results and the class summary.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from runner.batch.gradebook import Grade, Gradebook, ManualGrade
from runner.errors import NngradeError
from runner.report.model import Report, WrittenAnswer
from runner.report.read import read_report
from runner.spec import AssignmentSpec, RubricItem, local_text


@dataclass(frozen=True)
class ItemState:
    """One written answer of one student, and the instructor's grade of it, if any."""

    item: RubricItem
    answer: WrittenAnswer | None  # None: the student has no report to read it from
    grade: ManualGrade | None

    @property
    def changed(self) -> bool:
        """Graded, but the answer is no longer the one that was graded."""
        return (self.grade is not None and self.answer is not None
                and self.grade.answer_sha256 != self.answer.sha256)

    @property
    def needs_review(self) -> bool:
        return self.answer is not None and (self.grade is None or self.changed)


@dataclass(frozen=True)
class StudentState:
    """A student's automatic grade, report and written answers."""

    grade: Grade
    report: Report | None
    items: tuple[ItemState, ...]

    @property
    def needs_review(self) -> list[str]:
        return [state.item.id for state in self.items if state.needs_review]

    def combined(self, spec: AssignmentSpec, language: str = "en") -> Grade:
        """The automatic grade with the instructor's points added to score, maximum and
        checks (each marked ``manual``, with its comment)."""
        if not spec.rubric or self.grade.status == "problem":
            return self.grade
        manual = [{"id": s.item.id, "title": local_text(s.item.title, language),
                   "points": s.grade.points if s.grade else 0.0, "max_points": s.item.points,
                   "passed": s.grade is not None and s.grade.points >= s.item.points,
                   "manual": True, "graded": s.grade is not None,
                   "comment": s.grade.comment if s.grade else ""}
                  for s in self.items]
        return replace(self.grade, score=round(self.grade.score + sum(
            c["points"] for c in manual), 2), max_score=self.grade.max_score + sum(
            s.item.points for s in self.items), checks=(*self.grade.checks, *manual))


class ReportCache:
    """Reports already read, kept while their file stays the same (size and mtime)."""

    def __init__(self) -> None:
        self._reports: dict[Path, tuple[tuple[int, int], Report]] = {}

    def get(self, path: Path) -> Report | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        key = (stat.st_size, stat.st_mtime_ns)
        cached = self._reports.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            report = read_report(path)
        except NngradeError:
            return None
        self._reports[path] = (key, report)
        return report


def student_state(spec: AssignmentSpec, grade: Grade, out_dir: Path,
                  manual: dict[tuple[str, str], ManualGrade],
                  cache: ReportCache | None = None) -> StudentState:
    report = _report(out_dir, grade, cache or ReportCache())
    answers = {a.item: a for a in report.answers} if report is not None else {}
    items = tuple(ItemState(item, answers.get(item.id) if report is not None else None,
                            manual.get((grade.student, item.id)))
                  for item in spec.rubric)
    return StudentState(grade, report, items)


def class_state(spec: AssignmentSpec, book: Gradebook, out_dir: Path,
                students: set[str] | None = None,
                cache: ReportCache | None = None) -> list[StudentState]:
    """Every student of the class (or of ``students``), in the gradebook's order."""
    manual = book.manual(spec.id)
    cache = cache or ReportCache()
    return [student_state(spec, grade, out_dir, manual, cache) for grade in book.all(spec.id)
            if students is None or grade.student in students]


def _report(out_dir: Path, grade: Grade, cache: ReportCache) -> Report | None:
    if grade.status == "problem" or not grade.report_dir:
        return None
    return cache.get(out_dir / grade.report_dir / "report.json")
