"""The instructor's grades of written answers: kept apart from grading, never overwritten by
it, guarded against two instructors overwriting each other, and carried into grades.csv,
the Moodle worksheet, Gradescope's results.json and the summary."""

from __future__ import annotations

import csv
import io
import json

import pytest

from runner import assignments
from runner.batch.class_files import (
    ClassInfo,
    gradebook_url,
    read_class_info,
    write_class_files,
    write_class_info,
)
from runner.batch.gradebook import Gradebook, ManualGrade, StaleRevision
from runner.errors import NngradeError
from runner.review.state import class_state
from tests.review_class import ASSIGNMENT, make_class, student_notebook

SPEC = assignments.load(ASSIGNMENT).spec


@pytest.fixture
def klass(tmp_path):
    notebooks = {"ivanov": student_notebook("RMSE 25; помогли разности к прошлому году."),
                 "petrova": student_notebook("Окно 12 месяцев, MinMaxScaler.",
                                             heading="**Выводы:**"),
                 "sidorov": student_notebook(None)}
    book, info = make_class(tmp_path, notebooks, scores={"ivanov": 8, "petrova": 6,
                                                          "sidorov": 4})
    return tmp_path, book, info


def _answer_sha(out, book, student):
    state = next(s for s in class_state(SPEC, book, out) if s.grade.student == student)
    return state.items[0].answer.sha256


def _grade(book, out, student, points, comment="", revision=0, grader="Анна"):
    return book.put_manual(ManualGrade(
        assignment=SPEC.id, student=student, item="result", points=points, grader=grader,
        answer_sha256=_answer_sha(out, book, student), comment=comment),
        seen_revision=revision)


def _rows(out):
    return {row["student"]: row for row in csv.DictReader(io.StringIO(
        (out / "grades.csv").read_text()))}


def test_grades_csv_adds_the_written_answer_to_the_total_and_says_what_waits(klass):
    out, book, info = klass
    rows = _rows(out)
    assert rows["ivanov"]["score"] == "8" and rows["ivanov"]["max_score"] == "13"
    assert rows["ivanov"]["result"] == "" and rows["ivanov"]["needs_review"] == "result"
    _grade(book, out, "ivanov", 3, "Хорошо: есть сравнение опытов.")
    write_class_files(SPEC, book, out, info)
    rows = _rows(out)
    assert (rows["ivanov"]["score"], rows["ivanov"]["result"]) == ("11", "3")
    assert rows["ivanov"]["needs_review"] == ""
    assert rows["petrova"]["needs_review"] == "result"


def test_moodle_and_gradescope_carry_the_points_and_the_comment(klass):
    out, book, info = klass
    _grade(book, out, "ivanov", 2.5, "Нет сравнения с сезонным прогнозом.")
    write_class_files(SPEC, book, out, info)
    moodle = {row["Identifier"]: row for row in csv.DictReader(
        io.StringIO((out / "moodle_grades.csv").read_text()))}
    ivanov = next(row for key, row in moodle.items() if row["Full name"] == "ivanov")
    assert ivanov["Grade"] == "10.5" and ivanov["Maximum Grade"] == "13"
    assert "result 2,5/3: Нет сравнения с сезонным прогнозом." in ivanov["Feedback comments"]
    petrova = next(row for row in moodle.values() if row["Full name"] == "petrova")
    assert "result –/3 (ещё не проверено)" in petrova["Feedback comments"]
    results = json.loads((out / "students/ivanov/results.json").read_text())
    assert results["score"] == 10.5
    written = next(test for test in results["tests"] if test["number"] == "result")
    assert (written["score"], written["max_score"]) == (2.5, 3)
    assert written["output"] == "Нет сравнения с сезонным прогнозом."


def test_the_summary_shows_the_written_answer_column(klass):
    out, book, info = klass
    _grade(book, out, "ivanov", 3)
    write_class_files(SPEC, book, out, info)
    page = (out / "summary.html").read_text()
    assert ">result</th>" in page
    assert ">11 / 13</td>" in page and '<td class="num pt-pass">3</td>' in page


def test_a_regrade_of_the_automatic_part_keeps_the_manual_grade(klass):
    out, book, _ = klass
    _grade(book, out, "ivanov", 3, "Отлично.")
    automatic = book.get(SPEC.id, "ivanov")
    book.put(automatic.__class__(**{**automatic.__dict__, "score": 5.0, "graded_at": ""}))
    state = next(s for s in class_state(SPEC, book, out) if s.grade.student == "ivanov")
    assert state.items[0].grade.points == 3 and state.items[0].grade.comment == "Отлично."
    assert state.combined(SPEC).score == 8.0


def test_an_answer_changed_since_it_was_graded_waits_for_review_again(klass):
    out, book, info = klass
    book.put_manual(ManualGrade(assignment=SPEC.id, student="ivanov", item="result", points=3,
                                grader="Анна", answer_sha256="0" * 64), seen_revision=0)
    state = next(s for s in class_state(SPEC, book, out) if s.grade.student == "ivanov")
    assert state.items[0].changed and state.needs_review == ["result"]
    write_class_files(SPEC, book, out, info)
    assert _rows(out)["ivanov"]["needs_review"] == "result"
    assert _rows(out)["ivanov"]["result"] == "3"  # kept until the instructor looks again


def test_two_instructors_saving_the_same_answer_do_not_overwrite_each_other(klass):
    out, book, _ = klass
    first = _grade(book, out, "ivanov", 2, "Анна: кратко.")
    assert first.revision == 1
    # Борис opened the page before Анна saved: he saw no grade (revision 0).
    with pytest.raises(StaleRevision) as stale:
        _grade(book, out, "ivanov", 3, "Борис: хорошо.", revision=0, grader="Борис")
    assert stale.value.current.grader == "Анна" and stale.value.current.points == 2
    # Having seen hers, he saves over it on purpose.
    second = _grade(book, out, "ivanov", 3, "Борис: хорошо.", revision=1, grader="Борис")
    assert second.revision == 2
    with pytest.raises(StaleRevision):
        _grade(book, out, "ivanov", 1, revision=1)
    kept = book.manual(SPEC.id)[("ivanov", "result")]
    assert (kept.grader, kept.points, kept.revision) == ("Борис", 3, 2)
    assert kept.graded_at  # when, as well as who


def test_comments_given_before_come_back_most_used_first(klass):
    out, book, _ = klass
    _grade(book, out, "ivanov", 2, "Нет сравнения опытов.")
    _grade(book, out, "petrova", 2, "Нет сравнения опытов.")
    _grade(book, out, "sidorov", 0, "Ответа нет.")
    assert book.comments(SPEC.id, "result") == ["Нет сравнения опытов.", "Ответа нет."]


def test_the_class_folder_says_which_assignment_and_gradebook(klass, tmp_path):
    out, book, _ = klass
    info = read_class_info(out)
    assert (info.assignment, info.gradebook) == (ASSIGNMENT, book.url)
    with pytest.raises(NngradeError, match=r"class\.json"):
        read_class_info(tmp_path / "students")


def test_manual_grades_in_a_shared_postgresql_gradebook(postgres_url, tmp_path):
    book = Gradebook(postgres_url)
    grade = ManualGrade(assignment="a", student="s", item="result", points=1, grader="x",
                        answer_sha256="f" * 64)
    assert book.put_manual(grade, seen_revision=0).revision == 1
    with pytest.raises(StaleRevision):
        book.put_manual(grade, seen_revision=0)
    assert book.put_manual(grade, seen_revision=1).revision == 2


def test_a_gradebook_password_is_not_written_to_class_json(tmp_path):
    url = "postgresql+psycopg://grader:s3cret@db.example/grades"
    write_class_info(tmp_path, ClassInfo(assignment=ASSIGNMENT, gradebook=url))
    assert "s3cret" not in (tmp_path / "class.json").read_text()
    info = read_class_info(tmp_path)
    with pytest.raises(NngradeError, match="password"):
        gradebook_url(info, None)
    assert gradebook_url(info, url) == url
