"""The class summary page shows the batch's numbers right and nothing a student can inject."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from runner import assignments
from runner.batch.gradebook import Grade
from runner.batch.run import student_folder
from runner.batch.summary import render_summary, write_summary
from runner.report.image_grid import reconstruction_grid, samples_grid, segmentation_grid
from runner.spec import local_text
from tests.test_report_render import autograd_report

HOSTILE = "<script>alert(1)</script>"
OUT = Path("batch-out")
SPEC = assignments.load("fashion_mnist_cnn").spec
# executes 1, alexnet_cnn 2, cnn_accuracy 3, width_comparison 1.5, depth_comparison 1.5,
# mlp_baseline 1: 10 points in all.
POINTS = {check.id: check.points for check in SPEC.checks}


@dataclass(frozen=True)
class Pair:
    first: str
    second: str
    score: float
    shared_fingerprints: int


def _grade(student: str, status: str, passed: set[str], *, seconds: float = 60.0,
           full_name: str | None = None) -> Grade:
    checks = tuple({"id": i, "points": p if i in passed else 0.0, "max_points": p,
                    "passed": i in passed} for i, p in POINTS.items())
    return Grade(assignment=SPEC.id, student=student, grader_version="nngrade 0.1.0+test",
                 status=status, score=sum(c["points"] for c in checks), max_score=SPEC.max_score,
                 checks=checks, report_dir=str(student_folder(OUT, student).relative_to(OUT)),
                 seconds=seconds, full_name=full_name)


def _problem(student: str, problem: str) -> Grade:
    return Grade(assignment=SPEC.id, student=student, grader_version="nngrade 0.1.0+test",
                 status="problem", max_score=SPEC.max_score, problem=problem)


ALL = set(POINTS)


def class_grades() -> list[Grade]:
    """Six assessed students (3 of them pass cnn_accuracy) and two problems."""
    return [
        _grade("ivanov", "graded", ALL, seconds=300, full_name="Иван Иванов"),  # 10
        _grade("petrova", "graded", ALL - {"mlp_baseline"}, seconds=250,
               full_name="Мария Петрова"),  # 9
        _grade("sidorov", "graded", {"executes", "alexnet_cnn", "cnn_accuracy"},
               seconds=200),  # 6
        _grade(HOSTILE, "partial", {"executes", "alexnet_cnn"}, seconds=900,
               full_name=HOSTILE),  # 3
        _grade("kuznetsov", "partial", {"executes"}, seconds=120),  # 1
        _grade("popova", "failed", set(), seconds=5),  # 0
        _problem("smirnov", "not a notebook: smirnov.txt"),
        _problem("volkov", "the archive holds no .ipynb file"),
    ]


PAIRS = [Pair("ivanov", "petrova", 0.873, 42)]


@pytest.fixture(scope="module")
def page() -> str:
    return render_summary(SPEC, class_grades(), PAIRS)


def _section(page: str, heading: str) -> str:
    start = page.index(f"<h2>{heading}</h2>")
    end = page.find("<h2>", start + 1)
    return page[start:end if end != -1 else None]


def test_header_counts_mean_median_and_pass_rate(page: str) -> None:
    header = page[:page.index("<h2>")]
    assert local_text(SPEC.title, "en") in header and SPEC.id in header
    assert local_text(SPEC.title, "ru") not in header
    assert "<b>8</b><span>students</span>" in header
    for status, count in {"graded": 3, "partial": 2, "failed": 1, "problem": 2}.items():
        assert f"<b>{count}</b><span>{status}</span>" in header
    # scores 10, 9, 6, 3, 1, 0: mean 29/6 = 4.83, median 4.5; 60% of 10 passed by 3 of 6
    assert "<b>4.83 / 10</b><span>mean score</span>" in header
    assert "<b>4.5 / 10</b><span>median score</span>" in header
    assert "<b>50% (3 of 6)</b><span>pass rate</span>" in header


def test_every_student_appears_in_the_full_table(page: str) -> None:
    table = _section(page, "All students")
    for grade in class_grades():
        if grade.student != HOSTILE:
            assert f"<code>{grade.student}</code>" in table
    assert "Иван Иванов" in table and "Мария Петрова" in table
    assert table.count("<tr>") == 1 + 8  # head row and one row per student
    for check in SPEC.checks:
        assert f">{check.id}</th>" in table


def test_student_names_are_escaped(page: str) -> None:
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page



def test_page_is_self_contained(page: str) -> None:
    assert "<style>" in page and "Content-Security-Policy" in page
    assert re.search(r"<(?:link|img|iframe|object)\b|\bsrc=|url\((?!#)|@import", page) is None


def test_links_point_to_student_reports(page: str) -> None:
    links = {link for link in re.findall(r'href="([^"]*)"', page)
             if not link.startswith("#")}  # references inside the SVGs
    assert "students/ivanov/report.html" in links
    assert f"{student_folder(Path(), HOSTILE).as_posix()}/report.html" in links
    assert all(link.startswith("students/") and link.endswith("/report.html")
               for link in links)


def test_two_inline_svg_plots(page: str) -> None:
    assert page.count("<svg") == 2
    assert 'id="plot-scores"' in page and 'id="plot-checks"' in page


def test_check_pass_rate(page: str) -> None:
    section = _section(page, "Pass rate per check")
    row = re.search(r"<code>cnn_accuracy</code></td>(.*?)</tr>", section).group(1)
    assert "3 of 6" in row and "50%" in row
    row = re.search(r"<code>executes</code></td>(.*?)</tr>", section).group(1)
    assert "5 of 6" in row and "83%" in row  # the failed submission did not run


def test_slowest_first_and_problems_listed(page: str) -> None:
    slow = _section(page, "Slowest submissions")
    assert slow.index("_script_alert_1_script_") < slow.index("ivanov") < slow.index("petrova")
    assert "smirnov" not in slow  # no run time
    trouble = _section(page, "Failed and problem submissions")
    for name in ("popova", "smirnov", "volkov"):
        assert f"<code>{name}</code>" in trouble
    assert "not a notebook: smirnov.txt" in trouble
    assert "ivanov" not in trouble


def test_similar_pair_row(page: str) -> None:
    section = _section(page, "Similar pairs")
    assert "not proof" in section
    row = re.search(r"<tr><td><code>ivanov</code>.*?</tr>", section).group()
    assert "<code>petrova</code>" in row and "87%" in row and ">42<" in row
    assert "students/ivanov/report.html" in row and "students/petrova/report.html" in row


def test_no_pairs_says_so() -> None:
    page = render_summary(SPEC, class_grades(), [])
    assert "No similar pairs were found." in page


def test_empty_class_renders_without_plots(tmp_path: Path) -> None:
    path = write_summary(SPEC, [], [], tmp_path)
    assert path == tmp_path / "summary.html"
    page = path.read_text(encoding="utf-8")
    assert "<svg" not in page
    assert "no students in this batch" in page.lower()
    assert "<b>0</b><span>students</span>" in page


def test_all_problems_renders_without_plots() -> None:
    grades = [_problem("smirnov", "not a notebook"), _problem("volkov", "empty archive")]
    page = render_summary(SPEC, grades, [], title="Homework 3")
    assert "<svg" not in page
    assert "<title>Homework 3</title>" in page
    assert "every one is a problem" in page
    assert "<code>smirnov</code>" in _section(page, "Failed and problem submissions")


def test_each_students_masks_are_shown_from_their_report_and_a_broken_report_is_skipped(
        tmp_path: Path):
    masks = np.zeros((2, 4, 4), np.int64)
    grid = segmentation_grid(np.zeros((2, 4, 4)), masks, masks, f"#0 {HOSTILE}")
    grades = [_grade("ivanov", "graded", ALL), _grade("petrova", "graded", ALL),
              _grade("sidorov", "partial", {"executes"})]
    for grade, text in zip(grades, (
            autograd_report().model_copy(update={"grids": [grid]}).model_dump_json(),
            autograd_report().model_dump_json(), "{not json"), strict=True):
        folder = tmp_path / grade.report_dir
        folder.mkdir(parents=True)
        (folder / "report.json").write_text(text)
    page = write_summary(SPEC, grades, [], tmp_path).read_text()
    section = page[page.index("What the models produced"):]
    assert section.count("<figure>") == 1 and f"base64,{grid.png}" in section
    assert "<code>ivanov</code>" in section and "petrova" not in section
    assert HOSTILE not in page and "#0 &lt;script&gt;" in section
    assert "What the models produced" not in render_summary(SPEC, grades, [])


def test_a_generation_class_shows_samples_and_reconstructions_each_under_its_words(
        tmp_path: Path):
    images = np.full((16, 4, 4), 200, np.uint8)
    grids = [samples_grid(images, "#0 vae"), reconstruction_grid(images, images, "#0 vae")]
    grades = [_grade("ivanov", "graded", ALL), _grade("petrova", "graded", ALL)]
    for grade in grades:
        folder = tmp_path / grade.report_dir
        folder.mkdir(parents=True)
        (folder / "report.json").write_text(
            autograd_report().model_copy(update={"grids": grids}).model_dump_json())
    page = write_summary(SPEC, grades, [], tmp_path).read_text()
    section = page[page.index("What the models produced"):]
    samples_at = section.index("samples of their best generator")
    rebuilt_at = section.index("reconstructions (bottom)")
    assert samples_at < rebuilt_at
    assert section[samples_at:rebuilt_at].count("<figure>") == 2  # one a student
    assert section[rebuilt_at:].count("<figure>") == 2
