"""What a batch hands on: grades.csv, Moodle's grading worksheet, Gradescope results.

- ``grades.csv``: one row per student, total and points per check and per written answer,
  and which answers still need the instructor's review, for people.
- ``moodle_grades.csv``: Moodle's offline grading worksheet ("Upload grading worksheet"
  in the assignment): ``Identifier`` is ``Participant <id>`` from Moodle's download layout.
- ``students/<id>/results.json``: the Gradescope autograder format, one per student.

Column names and Gradescope's keys are the formats' own and stay as they are; the words
for people (Moodle's feedback comments, Gradescope's output) are in the batch's language,
and the check titles and messages they include come from the reports, already in theirs.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from runner.batch.gradebook import Grade
from runner.i18n.message import Message, msg
from runner.i18n.render import Translator
from runner.report.model import Report
from runner.report.write import write_atomic
from runner.spec import AssignmentSpec


def grades_csv(spec: AssignmentSpec, grades: list[Grade],
               needs_review: Mapping[str, list[str]] | None = None) -> str:
    """One row per student: total, status, the points of every check and written answer
    (empty until the instructor grades it), and the answers still to review.

    ``grades`` carry the instructor's points among their checks (see
    :meth:`runner.review.state.StudentState.combined`).
    """
    check_ids = [check.id for check in spec.checks] + [item.id for item in spec.rubric]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "full_name", "status", "score", "max_score", *check_ids,
                     *(["needs_review"] if spec.rubric else []), "problem", "report"])
    for grade in grades:
        points = {check["id"]: None if check.get("manual") and not check.get("graded")
                  else check["points"] for check in grade.checks}
        review = [" ".join((needs_review or {}).get(grade.student, []))] if spec.rubric else []
        writer.writerow([grade.student, grade.full_name or "", grade.status, f"{grade.score:g}",
                         f"{grade.max_score:g}", *(_points(points.get(i)) for i in check_ids),
                         *review, grade.problem or "",
                         f"{grade.report_dir}/report.html" if grade.report_dir else ""])
    return buffer.getvalue()


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def write_grades_csv(spec: AssignmentSpec, grades: list[Grade], out_dir: Path,
                     needs_review: Mapping[str, list[str]] | None = None) -> Path:
    path = out_dir / "grades.csv"
    write_atomic(path, grades_csv(spec, grades, needs_review))
    return path


STATUSES = ("graded", "partial", "failed", "problem")


def _status_word(t: Translator, status: str) -> str:
    return t(f"batch.status.{status}") if status in STATUSES else status


def moodle_worksheet(grades: list[Grade], language: str = "en") -> tuple[str, int]:
    """Moodle's grading worksheet for the students with a participant id; and how many lack one.

    The columns are Moodle's own; the feedback comments are in ``language``.
    """
    t = Translator(language)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Identifier", "Full name", "Grade", "Maximum Grade", "Feedback comments"])
    left_out = 0
    for grade in grades:
        if grade.participant is None:
            left_out += 1
            continue
        writer.writerow([f"Participant {grade.participant}", grade.full_name or grade.student,
                         f"{grade.score:g}" if grade.status != "problem" else "",
                         f"{grade.max_score:g}", _feedback(grade, t)])
    return buffer.getvalue(), left_out


def _feedback(grade: Grade, t: Translator) -> str:
    if grade.status == "problem":
        return t("batch.moodle.problem", problem=grade.problem or "")
    checks = [_check_line(c) for c in grade.checks]
    return t("batch.moodle.feedback", score=float(grade.score), max=float(grade.max_score),
             status=_status_word(t, grade.status), checks=checks)


def _check_line(check: dict) -> Message:
    """One check in the feedback; a written answer with the instructor's comment."""
    if check.get("manual") and not check.get("graded"):
        return msg("batch.moodle.ungraded", id=str(check["id"]), max=float(check["max_points"]))
    line = msg("batch.moodle.check", id=str(check["id"]), points=float(check["points"]),
               max=float(check["max_points"]))
    if check.get("comment"):
        return msg("batch.moodle.commented", check=line, comment=str(check["comment"]))
    return line


def gradescope_results(report: Report, language: str | None = None,
                       manual: Sequence[dict] = ()) -> dict:
    """Gradescope's results.json: score, time, and one test per check and written answer.

    The output's words are in ``language`` (default: the report's own); the check titles,
    messages and notes are the report's, in the language it was rendered in. ``manual``:
    the instructor's grades, as :meth:`runner.review.state.StudentState.combined` lists them.
    """
    t = Translator(language or report.language)
    score = round(report.score + sum(c["points"] for c in manual), 2)
    top = report.max_score + sum(c["max_points"] for c in manual)
    output = t("batch.gradescope.output", title=report.assignment_title,
               score=float(score), max=float(top), status=_status_word(t, report.status.value))
    written = [{"name": c["title"], "number": c["id"], "score": c["points"],
                "max_score": c["max_points"],
                "status": "passed" if c["passed"] else "failed",
                "output": c["comment"] if c["graded"] else t("batch.gradescope.ungraded"),
                "visibility": "visible"} for c in manual]
    return {
        "score": score,
        "execution_time": round(report.execution.seconds),
        "output": output + "".join(f"\n{note}" for note in report.notes),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [{"name": check.title, "number": check.id, "score": check.points,
                   "max_score": check.max_points, "status": "passed" if check.passed else "failed",
                   "output": check.message,
                   "visibility": "visible" if check.public else "after_published"}
                  for check in report.checks] + written,
    }


def write_gradescope_results(report: Report, student_dir: Path,
                             language: str | None = None, manual: Sequence[dict] = ()) -> Path:
    path = student_dir / "results.json"
    write_atomic(path, json.dumps(gradescope_results(report, language, manual),
                                  ensure_ascii=False, indent=1))
    return path


def write_moodle_worksheet(grades: list[Grade], out_dir: Path,
                           language: str = "en") -> tuple[Path, int]:
    text, left_out = moodle_worksheet(grades, language)
    path = out_dir / "moodle_grades.csv"
    write_atomic(path, text)
    return path, left_out
