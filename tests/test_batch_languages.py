"""`nngrade batch` in the batch's language: the summary page, Moodle's feedback comments,
Gradescope's results, and the language chosen and handed to grading.

Everything here is built by hand (grades, reports, a fake executor): no sandbox runs.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from runner import assignments
from runner.batch.exports import gradescope_results, moodle_worksheet, write_gradescope_results
from runner.batch.gradebook import Grade, Gradebook
from runner.batch.intake import Entry
from runner.batch.run import LocalExecutor, problem_text, run_batch, student_folder
from runner.batch.summary import render_summary, write_summary
from runner.i18n.language import LANG_ENV
from runner.report.model import CheckOutcome, Execution, Mode, Report, SandboxInfo, Status
from runner.spec import local_text

ASSIGNMENT = assignments.load("fashion_mnist_cnn")
SPEC = ASSIGNMENT.spec
# executes 1, alexnet_cnn 2, cnn_accuracy 3, width_comparison 1.5, depth_comparison 1.5,
# mlp_baseline 1: 10 points in all.
POINTS = {check.id: check.points for check in SPEC.checks}
OUT = Path("batch-out")


def _grade(student: str, status: str, passed: set[str], *, seconds: float = 60.0,
           participant: str | None = None) -> Grade:
    checks = tuple({"id": i, "points": p if i in passed else 0.0, "max_points": p,
                    "passed": i in passed} for i, p in POINTS.items())
    return Grade(assignment=SPEC.id, student=student, grader_version="nngrade 0.1.0+test",
                 status=status, score=sum(c["points"] for c in checks), max_score=SPEC.max_score,
                 checks=checks, report_dir=str(student_folder(OUT, student).relative_to(OUT)),
                 seconds=seconds, participant=participant)


def _problem(student: str, problem: str, participant: str | None = None) -> Grade:
    return Grade(assignment=SPEC.id, student=student, grader_version="nngrade 0.1.0+test",
                 status="problem", max_score=SPEC.max_score, problem=problem,
                 participant=participant)


def three_students() -> list[Grade]:
    """Scores 10, 8.5 and 4: mean 7.5, median 8.5; two of three pass (60%)."""
    return [
        _grade("ivanov", "graded", set(POINTS), seconds=300),
        _grade("petrova", "graded", set(POINTS) - {"depth_comparison"}, seconds=200),
        _grade("sidorov", "partial", {"executes", "cnn_accuracy"}, seconds=90.5),
    ]


@pytest.fixture(scope="module")
def russian_page() -> str:
    return render_summary(SPEC, three_students(), [], language="ru")


def _section(page: str, heading: str) -> str:
    start = page.index(f"<h2>{heading}</h2>")
    end = page.find("<h2>", start + 1)
    return page[start:end if end != -1 else None]


def test_russian_summary_page_is_marked_russian_and_shows_cyrillic(russian_page: str) -> None:
    assert russian_page.startswith('<!DOCTYPE html>\n<html lang="ru">\n<head>\n'
                                   '<meta charset="utf-8">')
    assert '"DejaVu Sans", "Noto Sans", system-ui, Arial, sans-serif' in russian_page
    title = local_text(SPEC.title, "ru")
    assert f"<title>{title}: сводка по группе</title>" in russian_page
    assert f"<h1>{title}: сводка по группе</h1>" in russian_page
    assert (f'<p class="sub">Сводка по группе, задание <code>{SPEC.id}</code>: {title}</p>'
            in russian_page)


def test_russian_headings_and_table_heads(russian_page: str) -> None:
    headings = re.findall(r"<h2>(.*?)</h2>", russian_page)
    assert headings == ["Распределение баллов", "Доля сдавших по проверкам",
                        "Самые долгие запуски", "Работы со сбоем и непроверенные работы",
                        "Похожие пары", "Все студенты"]
    checks = _section(russian_page, "Доля сдавших по проверкам")
    assert ('<th>Проверка</th><th class="num">Прошли</th><th class="num">Доля сдавших</th>'
            '<th class="num">Средний балл</th>') in checks
    everyone = _section(russian_page, "Все студенты")
    assert ('<th>Студент</th><th>ФИО</th><th>Статус</th><th class="num">Балл</th>'
            in everyone)
    assert '<span class="st st-graded">проверено</span>' in everyone
    assert '<span class="st st-partial">частично</span>' in everyone
    assert '<a href="students/ivanov/report.html">отчёт</a>' in everyone
    assert "Таких нет: все работы проверены." in russian_page
    assert "Похожих пар не найдено." in russian_page
    assert "сводка nngrade по группе · проверено версией nngrade 0.1.0+test" in russian_page


def test_russian_numbers_have_a_decimal_comma(russian_page: str) -> None:
    header = russian_page[:russian_page.index("<h2>")]
    assert "<b>7,5 / 10</b><span>средний балл</span>" in header
    assert "<b>8,5 / 10</b><span>медианный балл</span>" in header
    assert "<b>67% (2 из 3)</b><span>доля сдавших</span>" in header
    assert "не меньше 60% от максимального балла (10)" in header
    slow = _section(russian_page, "Самые долгие запуски")
    assert '<td class="num">90,5 с</td>' in slow
    assert '<td class="num pt-pass">1,5</td>' in _section(russian_page, "Все студенты")
    assert "7.5 /" not in russian_page and "8.5 /" not in russian_page


def test_russian_counts_take_the_right_plural(russian_page: str) -> None:
    assert "<b>3</b><span>студента</span>" in russian_page
    assert "по 3 работам со статусом «проверено», «частично» или «сбой»" in russian_page
    assert "Баллы 3 работ со статусом «проверено», «частично» или «сбой»." in russian_page
    one = render_summary(SPEC, three_students()[:1], [], language="ru")
    assert "<b>1</b><span>студент</span>" in one and "по 1 работе со статусом" in one
    five = [*three_students(), _grade("kuznetsov", "failed", set()),
            _problem("volkov", "the archive holds no .ipynb file")]
    page = render_summary(SPEC, five, [], language="ru")
    assert "<b>5</b><span>студентов</span>" in page
    assert "ещё 1 непроверенная работа — в списке ниже." in page
    trouble = _section(page, "Работы со сбоем и непроверенные работы")
    assert "«<em>не проверено</em>»" in trouble and "«<em>сбой</em>»" in trouble
    assert '<span class="st st-problem">не проверено</span>' in trouble


def test_russian_plots_have_russian_titles_axes_and_numbers(russian_page: str) -> None:
    texts = re.findall(r"<text[^>]*>(.*?)</text>", russian_page, flags=re.S)
    for text in ("Распределение баллов", "Балл (из 10)", "Число студентов",
                 "порог сдачи (60%)", "среднее (7,5)", "Доля сдавших по проверкам",
                 "Студенты, прошедшие проверку (%)", "67% (2/3)"):
        assert text in texts, text
    assert local_text(SPEC.checks[0].title, "ru") in texts


def test_russian_check_titles_come_from_the_spec(russian_page: str) -> None:
    for check in SPEC.checks:
        russian, english = local_text(check.title, "ru"), local_text(check.title, "en")
        assert f"<td>{russian}<br><code>{check.id}</code></td>" in russian_page
        assert english not in russian_page


def test_no_english_words_are_left_on_the_russian_page(russian_page: str) -> None:
    english = render_summary(SPEC, three_students(), [], language="en")
    assert '<html lang="en">' in english
    visible = re.sub(r"<svg.*?</svg>|<style>.*?</style>|<code>.*?</code>|<[^>]+>", " ",
                     russian_page, flags=re.S)
    words = set(re.findall(r"[A-Za-z_]{3,}", visible)) - set(POINTS)  # check ids stay
    assert words <= {"nngrade", "test", "AlexNet", "Fashion", "MNIST"}, words


def test_empty_class_in_russian(tmp_path: Path) -> None:
    page = write_summary(SPEC, [], [], tmp_path, language="ru").read_text(encoding="utf-8")
    assert "<b>0</b><span>студентов</span>" in page
    assert "Графиков нет: в этой группе нет ни одного студента." in page
    assert "<p>В этой группе нет студентов.</p>" in page


def test_moodle_feedback_in_russian_keeps_moodle_columns() -> None:
    grades = [_grade("Иван Иванов_123456", "partial", {"executes", "width_comparison"},
                     participant="123456"),
              _problem("Анна Петрова_223344", "hw.ipynb is an empty file", participant="223344"),
              _grade("no_id", "graded", set(POINTS))]
    text, left_out = moodle_worksheet(grades, "ru")
    assert left_out == 1
    rows = {row["Identifier"]: row for row in csv.DictReader(io.StringIO(text))}
    assert list(rows) == ["Participant 123456", "Participant 223344"]
    assert rows["Participant 123456"]["Grade"] == "2.5"  # a number for Moodle to read
    assert rows["Participant 123456"]["Feedback comments"] == (
        "nngrade: 2,5 из 10 (частично); executes 1/1; alexnet_cnn 0/2; cnn_accuracy 0/3; "
        "width_comparison 1,5/1,5; depth_comparison 0/1,5; mlp_baseline 0/1")
    assert rows["Participant 223344"]["Feedback comments"] == (
        "nngrade не смог проверить эту работу: hw.ipynb is an empty file")
    english, _ = moodle_worksheet(grades)
    assert ("nngrade: 2.5/10 (partial); executes 1/1, alexnet_cnn 0/2, cnn_accuracy 0/3, "
            "width_comparison 1.5/1.5, depth_comparison 0/1.5, mlp_baseline 0/1") in english
    assert "nngrade could not grade this submission: hw.ipynb is an empty file" in english


def _report(language: str) -> Report:
    russian = language == "ru"
    return Report(
        language=language, assignment="demo", assignment_title="Демо" if russian else "Demo",
        assignment_titles={"en": "Demo", "ru": "Демо"}, notebook="hw.ipynb",
        submission_sha256="0" * 64, grader_version="x", mode=Mode.grade, status=Status.partial,
        score=7.5, max_score=10, evaluation_set="-",
        checks=[CheckOutcome(id="runs", title="Работает" if russian else "Runs",
                             titles={"en": "Runs", "ru": "Работает"}, points=7.5,
                             max_points=10, passed=False,
                             message="5 моделей" if russian else "5 models", public=False)],
        notes=["заметка" if russian else "a note"],
        execution=Execution(seconds=12.6),
        sandbox=SandboxInfo(backend="none", isolated=False, network=True),
        created="2026-12-02T00:00:00Z")


def test_gradescope_results_in_the_reports_language(tmp_path: Path) -> None:
    results = gradescope_results(_report("ru"))
    assert results["output"] == "Демо: 7,5 из 10 (частично)\nзаметка"
    assert results["score"] == 7.5 and results["execution_time"] == 13
    assert results["tests"] == [{
        "name": "Работает", "number": "runs", "score": 7.5, "max_score": 10,
        "status": "failed", "output": "5 моделей", "visibility": "after_published"}]
    assert gradescope_results(_report("en"))["output"] == "Demo: 7.5/10 (partial)\na note"
    path = write_gradescope_results(_report("ru"), tmp_path, "ru")
    assert '"output": "Демо: 7,5 из 10 (частично)\\nзаметка"' in path.read_text(
        encoding="utf-8")


class _Recording:
    """An executor that grades nothing: it records each task and calls it a problem."""

    def __init__(self) -> None:
        self.languages: list[str] = []

    def run(self, assignment, tasks, on_start):
        for task in tasks:
            on_start(task)
            self.languages.append(task.language)
            yield task, problem_text(RuntimeError("boom"), task.language)


def _entries(tmp_path: Path) -> list[Entry]:
    notebook = tmp_path / "hw.ipynb"
    notebook.write_text("{}")
    return [Entry("ivanov", notebook, sha256="1" * 64), Entry("petrova", None)]


@pytest.mark.parametrize(("flag", "env", "wanted"), [
    (None, None, "ru"),  # the spec's language
    ("en", None, "en"),  # --lang wins
    (None, "en", "en"),  # then $NNGRADE_LANG
    ("ru", "en", "ru"),
])
def test_run_batch_chooses_the_language_and_hands_it_on(tmp_path, monkeypatch, flag, env,
                                                         wanted) -> None:
    if env is None:
        monkeypatch.delenv(LANG_ENV, raising=False)
    else:
        monkeypatch.setenv(LANG_ENV, env)
    assert SPEC.language == "ru"
    executor = _Recording()
    book = Gradebook(f"sqlite:///{tmp_path / 'gradebook.sqlite'}")
    result = run_batch(ASSIGNMENT, _entries(tmp_path), tmp_path / "out", book, executor,
                       language=flag)
    assert result.language == wanted and executor.languages == [wanted]
    problems = {g.student: g.problem for g in result.problems}
    if wanted == "ru":
        assert problems == {"ivanov": "nngrade не смог проверить эту работу (RuntimeError: boom)",
                            "petrova": "нет ноутбука"}
    else:
        assert problems == {"ivanov": "nngrade could not grade this submission (RuntimeError: "
                                      "boom)", "petrova": "no notebook"}


def test_local_executor_passes_the_language_to_grading(tmp_path, monkeypatch) -> None:
    seen = {}

    def fake_grade(assignment, notebook, out_dir, **options):
        seen.update(options)
        return "graded elsewhere"

    monkeypatch.setattr("runner.batch.run.grade", fake_grade)
    monkeypatch.delenv(LANG_ENV, raising=False)
    book = Gradebook(f"sqlite:///{tmp_path / 'gradebook.sqlite'}")
    result = run_batch(ASSIGNMENT, _entries(tmp_path)[:1], tmp_path / "out", book,
                       LocalExecutor(backend=None), language=None)  # type: ignore[arg-type]
    assert seen["language"] == "ru" and seen["mode"] is Mode.grade
    assert result.language == "ru"
