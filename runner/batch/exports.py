"""What a batch hands on: grades.csv, Moodle's grading worksheet, Gradescope results.

- ``grades.csv``: one row per student, total and points per check, for people.
- ``moodle_grades.csv``: Moodle's offline grading worksheet ("Upload grading worksheet"
  in the assignment): ``Identifier`` is ``Participant <id>`` from Moodle's download layout.
- ``students/<id>/results.json``: the Gradescope autograder format, one per student.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from runner.batch.gradebook import Grade
from runner.report.model import Report
from runner.report.write import write_atomic
from runner.spec import AssignmentSpec


def grades_csv(spec: AssignmentSpec, grades: list[Grade]) -> str:
    """One row per student: total, status, and the points of every check."""
    check_ids = [check.id for check in spec.checks]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "full_name", "status", "score", "max_score", *check_ids,
                     "problem", "report"])
    for grade in grades:
        points = {check["id"]: check["points"] for check in grade.checks}
        writer.writerow([grade.student, grade.full_name or "", grade.status, f"{grade.score:g}",
                         f"{grade.max_score:g}", *(_points(points.get(i)) for i in check_ids),
                         grade.problem or "",
                         f"{grade.report_dir}/report.html" if grade.report_dir else ""])
    return buffer.getvalue()


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def write_grades_csv(spec: AssignmentSpec, grades: list[Grade], out_dir: Path) -> Path:
    path = out_dir / "grades.csv"
    write_atomic(path, grades_csv(spec, grades))
    return path


def moodle_worksheet(grades: list[Grade]) -> tuple[str, int]:
    """Moodle's grading worksheet for the students with a participant id; and how many lack one."""
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
                         f"{grade.max_score:g}", _feedback(grade)])
    return buffer.getvalue(), left_out


def _feedback(grade: Grade) -> str:
    if grade.status == "problem":
        return f"nngrade could not grade this submission: {grade.problem}"
    checks = ", ".join(f"{c['id']} {c['points']:g}/{c['max_points']:g}" for c in grade.checks)
    return f"nngrade: {grade.score:g}/{grade.max_score:g} ({grade.status}); {checks}"


def gradescope_results(report: Report) -> dict:
    """Gradescope's results.json: score, time, and one test per check."""
    return {
        "score": report.score,
        "execution_time": round(report.execution.seconds),
        "output": f"{report.assignment_title}: {report.score:g}/{report.max_score:g} "
                  f"({report.status.value})" + "".join(f"\n{note}" for note in report.notes),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [{"name": check.title, "number": check.id, "score": check.points,
                   "max_score": check.max_points, "status": "passed" if check.passed else "failed",
                   "output": check.message,
                   "visibility": "visible" if check.public else "after_published"}
                  for check in report.checks],
    }


def write_gradescope_results(report: Report, student_dir: Path) -> Path:
    path = student_dir / "results.json"
    write_atomic(path, json.dumps(gradescope_results(report), ensure_ascii=False, indent=1))
    return path


def write_moodle_worksheet(grades: list[Grade], out_dir: Path) -> tuple[Path, int]:
    text, left_out = moodle_worksheet(grades)
    path = out_dir / "moodle_grades.csv"
    write_atomic(path, text)
    return path, left_out
