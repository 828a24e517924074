"""The written part of `lstm_airline_passengers`, end to end: `nngrade batch` grades two
student-style notebooks in the sandbox, an instructor grades their written answers in
the browser, grades.csv and the Moodle worksheet carry the totals and comments, a rerun
and a regrade of the batch keep the manual grades, and after a threshold changes
`nngrade rescore` rescores the class from what was measured, running no notebook."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from runner.batch.run import student_folder
from runner.sandbox.backends import bubblewrap_works
from tests.chromium import needs_chromium
from tests.test_review_browser import serving

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests/fixtures/notebooks/lstm_airline_passengers"
IVANOV, PETROVA = "Иван Иванов_123456", "Анна Петрова_223344"
pytestmark = [
    pytest.mark.slow, needs_chromium,
    pytest.mark.skipif(not bubblewrap_works() and os.environ.get("CI") != "true",
                       reason="bubblewrap is not usable here (apt-get install bubblewrap)")]


def _nngrade(home: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True,
                            text=True, timeout=900, env={**os.environ, "COLUMNS": "200",
                                                         "NNGRADE_LANG": "ru",
                                                         "NNGRADE_HOME": str(home)})
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_written_answers_graded_in_the_browser_survive_reruns_and_rescoring(
        tmp_path, browser):
    home = tmp_path / "course"  # the project's assignments and datasets, to change a threshold
    for folder in ("assignments", "datasets"):
        shutil.copytree(ROOT / folder, home / folder)
    submissions = tmp_path / "submissions.zip"  # Moodle's "Download all submissions"
    with zipfile.ZipFile(submissions, "w") as bundle:
        bundle.write(FIXTURES / "torch_drive_standardised.ipynb",
                     f"{IVANOV}_assignsubmission_file_/hw5.ipynb")
        bundle.write(FIXTURES / "torch_values_content_path.ipynb",
                     f"{PETROVA}_assignsubmission_file_/ДЗ 5.ipynb")
    out = tmp_path / "class"
    executed_notebook = student_folder(out, IVANOV) / "executed.ipynb"
    _nngrade(home, "batch", "lstm_airline_passengers", str(submissions), "--out", str(out))
    before = {row["student"]: row for row in _csv(out / "grades.csv")}
    assert before[IVANOV]["needs_review"] == "result" and before[IVANOV]["result"] == ""
    assert before[IVANOV]["max_score"] == "13"

    page = browser.new_page()
    with serving(out, grader="Мария Ивановна") as url:
        page.goto(url + "/")
        page.keyboard.press("Tab")  # the first link: start reviewing
        page.keyboard.press("Enter")
        page.wait_for_url(lambda address: "223344" in address)  # Анна, first by name
        assert "не найден" in page.locator("#answer").inner_text()
        page.keyboard.press("4")  # no answer: 0 points
        page.locator("#comment").fill("Письменного ответа нет.")
        page.keyboard.press("Control+Enter")
        page.wait_for_url(lambda address: "123456" in address and "saved" in address)
        assert "стандартизация ряда" in page.locator("#answer").inner_text()
        page.keyboard.press("2")
        page.locator("#comment").fill("Нет сравнения опытов.")
        page.keyboard.press("Control+Enter")
        page.wait_for_url(url + "/**")

    def check_totals() -> None:
        rows = {row["student"]: row for row in _csv(out / "grades.csv")}
        for row in rows.values():  # the total is every check's points and the written answer's
            parts = ("executes", "lstm_trained", "forecast_error", "beats_seasonal_naive",
                     "result")
            assert float(row["score"]) == pytest.approx(sum(float(row[p]) for p in parts))
        assert (rows[IVANOV]["result"], rows[PETROVA]["result"]) == ("2", "0")
        assert rows[IVANOV]["needs_review"] == rows[PETROVA]["needs_review"] == ""
        moodle = "\n".join(row["Feedback comments"] for row in _csv(out / "moodle_grades.csv"))
        assert "Нет сравнения опытов." in moodle and "Письменного ответа нет." in moodle

    executed = executed_notebook.read_bytes()
    _nngrade(home, "batch", "lstm_airline_passengers", str(submissions), "--out", str(out))
    assert executed_notebook.read_bytes() == executed  # not run again
    check_totals()
    _nngrade(home, "batch", "lstm_airline_passengers", str(submissions), "--out", str(out),
             "--regrade")
    check_totals()

    # The instructor makes the trained-model check worth 4 points instead of 2.
    spec = home / "assignments/lstm_airline_passengers/assignment.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("    kind: trained_model\n    points: 2",
                                 "    kind: trained_model\n    points: 4"), encoding="utf-8")
    executed = executed_notebook.read_bytes()
    automatic = float(next(row["score"] for row in _csv(out / "grades.csv")
                           if row["student"] == IVANOV)) - 2  # before the change
    rescored = _nngrade(home, "rescore", str(out))
    assert "нужен повторный запуск: 0" in rescored.stdout
    rows = {row["student"]: row for row in _csv(out / "grades.csv")}
    assert rows[IVANOV]["max_score"] == "15" and rows[IVANOV]["lstm_trained"] == "4"
    assert float(rows[IVANOV]["score"]) == pytest.approx(automatic + 2 + 2)
    assert executed_notebook.read_bytes() == executed  # not run again
    report = (executed_notebook.parent / "report.json").read_text(encoding="utf-8")
    assert '"measured_by"' in report

    # A change to what is collected cannot be rescored: those students are named.
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "total_seconds: 900", "total_seconds: 901"), encoding="utf-8")
    stale = _nngrade(home, "rescore", str(out))
    assert f"{IVANOV}: нужен повторный запуск" in stale.stdout
    assert "--regrade" in stale.stdout
