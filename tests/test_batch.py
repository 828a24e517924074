"""Grading a class: intake of real folder and Moodle layouts, the gradebook, resuming."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from runner.batch.intake import collect
from runner.batch.run import student_folder
from runner.sandbox.backends import bubblewrap_works
from runner.sandbox.engine import OWNER_LABEL, engine_reachable, has_image, image_name
from runner.sandbox.engine import client as engine_client
from tests.notebooks import AUTOGRAD_GOOD, with_limits, write_notebook

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks" / "autograd_derivative"

needs_sandbox = pytest.mark.skipif(
    os.environ.get("CI") != "true" and not bubblewrap_works()
    and not (engine_reachable() and has_image(image_name())),
    reason="no sandbox here (bubblewrap or Docker with the grading image)")


def _notebook_bytes(tmp_path: Path) -> bytes:
    return write_notebook(tmp_path / "_good.ipynb", *AUTOGRAD_GOOD).read_bytes()


def test_folder_intake_finds_one_notebook_per_student_and_names_problems(tmp_path):
    good = _notebook_bytes(tmp_path)
    root = tmp_path / "class"
    (root / "petrov" / "hw").mkdir(parents=True)
    (root / "petrov" / "hw" / "homework.ipynb").write_bytes(good)
    (root / "ivanov.ipynb").write_bytes(good)
    (root / "sidorov").mkdir()
    (root / "sidorov" / "a.ipynb").write_bytes(good)
    (root / "sidorov" / "b.ipynb").write_bytes(good)
    (root / "empty.ipynb").write_bytes(b"")
    (root / "notes.txt").write_text("hello")
    (root / "kuznetsova").mkdir()
    with zipfile.ZipFile(root / "kuznetsova" / "hw.zip", "w") as bundle:
        bundle.writestr("hw1/solution.ipynb", good)
    (root / "broken.zip").write_bytes(b"PK\x03\x04 broken")
    (root / "smirnov.ipynb").write_bytes(good)
    (root / "smirnov").mkdir()
    (root / "smirnov" / "again.ipynb").write_bytes(good)
    (root / ".DS_Store").write_bytes(b"junk")

    entries = {e.student: e for e in collect(root, tmp_path / "work")}
    assert sorted(entries) == ["broken", "empty", "ivanov", "kuznetsova", "notes", "petrov",
                               "sidorov", "smirnov"]
    assert entries["petrov"].notebook.name == "homework.ipynb"
    assert entries["kuznetsova"].notebook.name == "solution.ipynb"
    assert entries["ivanov"].sha256 == entries["petrov"].sha256  # identical files
    assert "found 2" in entries["sidorov"].problem
    assert "empty file" in entries["empty"].problem
    assert "not a notebook" in entries["notes"].problem
    assert "not a readable archive" in entries["broken"].problem
    assert "2 submissions under one student id" in entries["smirnov"].problem


def test_moodle_download_layout_gives_names_and_participant_ids(tmp_path):
    good = _notebook_bytes(tmp_path)
    archive = tmp_path / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("Иван Иванов_123456_assignsubmission_file_/hw.ipynb", good)
        bundle.writestr("Анна Петрова_223344_assignsubmission_file_/Homework 1.ipynb", good)
        bundle.writestr("Oleg Sidorov_334455_assignsubmission_file_hw.ipynb", good)
        bundle.writestr("Oleg Sidorov_334455_assignsubmission_file_readme.txt", b"text")
    entries = {e.student: e for e in collect(archive, tmp_path / "work")}
    assert sorted(entries) == ["Oleg Sidorov_334455", "Анна Петрова_223344",
                               "Иван Иванов_123456"]
    anna = entries["Анна Петрова_223344"]
    assert (anna.participant, anna.full_name) == ("223344", "Анна Петрова")
    assert anna.notebook.name == "Homework 1.ipynb" and anna.problem is None
    assert entries["Oleg Sidorov_334455"].notebook.name.endswith("_hw.ipynb")


def _class_folder(tmp_path: Path, good_students: int) -> Path:
    root = tmp_path / "class"
    root.mkdir()
    for number in range(good_students):
        # Different bytes per student, same code: a comment names the student.
        write_notebook(root / f"student{number:02d}.ipynb", f"# student {number}",
                       *AUTOGRAD_GOOD)
    return root


def _batch(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner", "batch", *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200"})


def _rows(out: Path) -> dict[str, tuple]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return {row[0]: row[1:] for row in db.execute(
            "select student, status, score, graded_at, submission_sha256 from results")}


@pytest.mark.slow
@needs_sandbox
def test_batch_grades_mixed_class_writes_csv_and_resumes_without_regrading(tmp_path):
    root = _class_folder(tmp_path, 2)
    (root / "wrong.ipynb").write_bytes((FIXTURES / "wrong_function.ipynb").read_bytes())
    (root / "garbage.ipynb").write_text("this is not json")
    (root / "empty.ipynb").write_bytes(b"")
    out = tmp_path / "out"
    first = _batch("autograd_derivative", str(root), "--out", str(out), "--jobs", "2")
    assert first.returncode == 0, first.stderr
    with (out / "grades.csv").open(encoding="utf-8") as handle:
        grades = {row["student"]: row for row in csv.DictReader(handle)}
    assert sorted(grades) == ["empty", "garbage", "student00", "student01", "wrong"]
    assert grades["student00"]["score"] == "10" and grades["student00"]["gradient_values"] == "4"
    assert grades["wrong"]["status"] == "graded" and float(grades["wrong"]["score"]) < 10
    assert grades["garbage"]["status"] == "problem" and "not valid JSON" in grades[
        "garbage"]["problem"]
    assert grades["empty"]["status"] == "problem"
    assert (out / grades["student01"]["report"]).is_file()
    # Same code under two names (only a comment differs): flagged for a human to look at.
    assert "similar: student00 and student01" in first.stdout
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert "students/student00/report.html" in summary and "<svg" in summary
    before = _rows(out)

    second = _batch("autograd_derivative", str(root), "--out", str(out), "--jobs", "2")
    assert second.returncode == 0, second.stderr
    assert "graded 0, already in the gradebook 3" in second.stdout
    after = _rows(out)
    assert {s: after[s] for s in ("student00", "student01", "wrong")} == {
        s: before[s] for s in ("student00", "student01", "wrong")}

    write_notebook(root / "student01.ipynb", "# student 1, resubmitted", *AUTOGRAD_GOOD)
    third = _batch("autograd_derivative", str(root), "--out", str(out))
    assert "graded 1, already in the gradebook 2" in third.stdout
    assert _rows(out)["student01"][3] != before["student01"][3]


@pytest.mark.slow
@needs_sandbox
def test_batch_killed_with_sigkill_loses_nothing_and_resumes(tmp_path):
    root = _class_folder(tmp_path, 6)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", "batch", "autograd_derivative", str(root), "--out",
         str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if (out / "gradebook.sqlite").exists() and len(_rows(out)) >= 2:
            break
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
    survived = _rows(out)
    assert 2 <= len(survived) < 6
    assert all(row[0] == "graded" and row[1] == 10 for row in survived.values())

    resumed = _batch("autograd_derivative", str(root), "--out", str(out))
    assert resumed.returncode == 0, resumed.stderr
    if engine_reachable():  # the killed batch's container, if it had one, was cleared away
        orphans = engine_client().containers.list(
            all=True, filters={"label": f"{OWNER_LABEL}={socket.gethostname()}:{process.pid}"})
        assert orphans == []
    assert f"already in the gradebook {len(survived)}" in resumed.stdout
    final = _rows(out)
    assert len(final) == 6 and all(row[1] == 10 for row in final.values())
    assert {s: final[s] for s in survived} == survived  # not graded again


@pytest.mark.slow
@needs_sandbox
def test_moodle_archive_batch_exports_worksheet_and_gradescope_results(tmp_path):
    good = _notebook_bytes(tmp_path)
    archive = tmp_path / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("Иван Иванов_123456_assignsubmission_file_/hw.ipynb", good)
        bundle.writestr("Анна Петрова_223344_assignsubmission_file_/hw.ipynb", b"")
    out = tmp_path / "out"
    result = _batch("autograd_derivative", str(archive), "--out", str(out))
    assert result.returncode == 0, result.stderr
    with (out / "moodle_grades.csv").open(encoding="utf-8") as handle:
        rows = {row["Identifier"]: row for row in csv.DictReader(handle)}
    assert rows["Participant 123456"]["Grade"] == "10"
    assert rows["Participant 123456"]["Full name"] == "Иван Иванов"
    assert rows["Participant 223344"]["Grade"] == ""  # not gradable: no grade is uploaded
    assert "empty file" in rows["Participant 223344"]["Feedback comments"]
    ivan = student_folder(out, "Иван Иванов_123456")
    results = json.loads((ivan / "results.json").read_text())
    assert results["score"] == 10
    tests = {t["number"]: t for t in results["tests"]}
    assert tests["gradient_values"]["score"] == tests["gradient_values"]["max_score"] == 4
    assert tests["gradient_values"]["status"] == "passed"


@needs_sandbox
@pytest.mark.skipif(os.environ.get("CI") != "true" and importlib.util.find_spec("ray") is None,
                    reason="Ray is not installed (pip install -e '.[ray]')")
@pytest.mark.slow
def test_same_batch_runs_as_ray_tasks_on_a_local_ray(tmp_path):
    root = _class_folder(tmp_path, 2)
    (root / "garbage.ipynb").write_text("{not json")
    out = tmp_path / "out"
    result = _batch("autograd_derivative", str(root), "--out", str(out), "--executor", "ray",
                    "--jobs", "2")
    assert result.returncode == 0, result.stderr
    rows = _rows(out)
    assert {s: r[:2] for s, r in rows.items()} == {
        "student00": ("graded", 10), "student01": ("graded", 10), "garbage": ("problem", 0)}
    assert (out / "students" / "student01" / "report.html").is_file()
    assert json.loads((out / "students" / "student00" / "results.json").read_text())["score"] == 10
    again = _batch("autograd_derivative", str(root), "--out", str(out), "--executor", "ray")
    assert "graded 0, already in the gradebook 2" in again.stdout


def test_parallel_jobs_share_the_cpus_unless_the_spec_sets_them(project_copy):
    from runner import assignments
    from runner.batch.run import with_cpu_share

    assignment = assignments.load("autograd_derivative")
    assert with_cpu_share(assignment, 1) is assignment
    assert with_cpu_share(assignment, 2, cpu_count=8).spec.limits.cpus == 4
    assert with_cpu_share(assignment, 3, cpu_count=2).spec.limits.cpus == 1  # never under one
    assert assignment.spec.limits.cpus is None  # the loaded spec itself is unchanged
    fixed = with_limits(project_copy, "autograd_derivative", "limits: {cpus: 3}")
    assert with_cpu_share(fixed, 8, cpu_count=64).spec.limits.cpus == 3


HOSTILE = {
    "loops_forever": "while True:\n    pass",
    "memory_bomb": "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 2**20))",
    # Waits for the bomb to reach the process limit, however slowly a busy machine forks.
    "fork_bomb": "import subprocess, time\nsubprocess.run(['bash', '-c', ':(){ :|:& };:'])\n"
                 "time.sleep(80)",
    "exits": "import os\nos._exit(1)",
    "phones_home": "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)",
    # A partial solution (the right f, a wrong grad_f by hand) that forges full marks.
    "forges_report": "import json, torch\n"
                     "def f(x):\n"
                     "    return torch.sin(x ** 2) * torch.exp(-x / 3) + torch.log(1 + x ** 2)\n"
                     "def grad_f(x):\n"
                     "    return 2 * x\n"
                     "json.dump({'score': 10}, open('/job/out/report.json', 'w'))\n"
                     "json.dump({'score': 10}, open('report.json', 'w'))",
}


def _mixed_class(tmp_path: Path) -> Path:
    """22 students: good, wrong, hostile, broken files, a duplicate id and a copied pair."""
    root = _class_folder(tmp_path, 6)  # student00..05: full marks, one solution
    for copy in ("student06", "student07"):  # another correct solution, copied
        (root / f"{copy}.ipynb").write_bytes((FIXTURES / "good.ipynb").read_bytes())
    for name in ("wrong_function", "manual_gradient"):
        (root / f"{name}.ipynb").write_bytes((FIXTURES / f"{name}.ipynb").read_bytes())
    for name, code in HOSTILE.items():
        write_notebook(root / f"{name}.ipynb", code)
    (root / "garbage.ipynb").write_text("{not a notebook")
    (root / "empty.ipynb").write_bytes(b"")
    (root / "essay.docx").write_bytes(b"PK\x03\x04 a word file")
    (root / "broken.zip").write_bytes(b"PK\x03\x04 broken")
    (root / "twice.ipynb").write_bytes((root / "student00.ipynb").read_bytes())
    (root / "twice").mkdir()
    (root / "twice" / "hw.ipynb").write_bytes((root / "student01.ipynb").read_bytes())
    return root


@pytest.mark.slow
@needs_sandbox
@pytest.mark.parametrize("executor", ["local", "ray"])
def test_a_class_of_22_mixed_notebooks_is_graded_in_one_command(tmp_path, project_copy,
                                                                  executor):
    if executor == "ray" and os.environ.get("CI") != "true" and not importlib.util.find_spec(
            "ray"):
        pytest.skip("Ray is not installed")
    # Limits no honest notebook here can miss, even on a loaded machine (a cold `import
    # torch` on a busy core takes seconds); the hostile ones end by their own limits
    # (memory, processes, network), and the endless loop holds one slot for cell_seconds
    # while the other slot grades the rest.
    with_limits(project_copy, "autograd_derivative", "limits: {total_seconds: 300, "
                "cell_seconds: 90, memory_mb: 1024, processes: 128}")
    root = _mixed_class(tmp_path)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "runner", "batch", "autograd_derivative", str(root), "--out",
         str(out), "--jobs", "2", "--executor", executor], capture_output=True, text=True,
        timeout=900, env={**os.environ, "COLUMNS": "200", "NNGRADE_HOME": str(project_copy.root)})
    assert result.returncode == 0, result.stderr
    with (out / "grades.csv").open(encoding="utf-8") as handle:
        grades = {row["student"]: row for row in csv.DictReader(handle)}
    assert len(grades) == 21  # 22 submissions, two of them under one id
    for number in range(8):
        assert grades[f"student{number:02d}"]["score"] == "10", grades[f"student{number:02d}"]
    assert 0 < float(grades["wrong_function"]["score"]) < 10
    assert 0 < float(grades["manual_gradient"]["score"]) < 10
    for name in HOSTILE:
        assert grades[name]["status"] in ("partial", "graded"), grades[name]
        # The forger earns what it did (runs 1, f 2), not the 10 its forged files say.
        honest = 3 if name == "forges_report" else 0
        assert float(grades[name]["score"]) == honest, grades[name]
    for name in ("garbage", "empty", "essay", "broken", "twice"):
        assert grades[name]["status"] == "problem" and grades[name]["problem"], grades[name]
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert all(student in summary for student in grades)
    assert "<td><code>student06</code></td><td><code>student07</code></td>" in summary


@pytest.mark.slow
@needs_sandbox
@pytest.mark.parametrize("executor", ["local", "ray"])
def test_a_notebook_nested_100000_deep_is_one_students_problem(tmp_path, executor):
    if executor == "ray" and os.environ.get("CI") != "true" and not importlib.util.find_spec(
            "ray"):
        pytest.skip("Ray is not installed")
    root = _class_folder(tmp_path, 1)
    (root / "nested.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    out = tmp_path / "out"
    for _ in range(2):  # the rerun must not stop on the same student either
        result = _batch("autograd_derivative", str(root), "--out", str(out),
                        "--executor", executor)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        with (out / "grades.csv").open(encoding="utf-8") as handle:
            grades = {row["student"]: row for row in csv.DictReader(handle)}
        assert grades["student00"]["score"] == "10", grades["student00"]
        assert grades["nested"]["status"] == "problem" and grades["nested"]["problem"]
        assert "nested" in (out / "summary.html").read_text(encoding="utf-8")
        assert (out / "moodle_grades.csv").is_file()
    assert _rows(out)["nested"][0] == "problem"


def test_gradebook_replaces_a_students_row_and_knows_what_is_current(tmp_path):
    from runner.batch.gradebook import Grade, Gradebook, default_url

    book = Gradebook(default_url(tmp_path))
    book.put(Grade("hw", "ivanov", "1.0+a", "graded", score=5, submission_sha256="aa"))
    book.put(Grade("hw", "ivanov", "1.0+a", "graded", score=7, submission_sha256="bb",
                   checks=({"id": "executes", "points": 1, "max_points": 1, "passed": True},)))
    book.put(Grade("hw", "petrov", "1.0+a", "problem", problem="empty file"))
    again = Gradebook(default_url(tmp_path))  # a later run opens the same file
    assert [(g.student, g.score) for g in again.all("hw")] == [("ivanov", 7), ("petrov", 0)]
    assert again.get("hw", "ivanov").checks[0]["id"] == "executes"
    assert again.is_current("hw", "ivanov", "bb", "1.0+a")
    assert not again.is_current("hw", "ivanov", "aa", "1.0+a")  # the notebook changed
    assert not again.is_current("hw", "ivanov", "bb", "1.0+b")  # the grader changed
    assert not again.is_current("hw", "petrov", None, "1.0+a")  # problems are looked at again


@pytest.mark.slow
@needs_sandbox
def test_a_shared_postgresql_gradebook_serves_two_runs(tmp_path, postgres_url):
    from runner.batch.gradebook import Gradebook

    root = _class_folder(tmp_path, 2)
    for run in ("first", "second"):
        result = _batch("autograd_derivative", str(root), "--out", str(tmp_path / run),
                        "--db", postgres_url)
        assert result.returncode == 0, result.stderr
    # The second machine's run (another output folder) found both grades in the shared book.
    assert "graded 0, already in the gradebook 2" in result.stdout
    assert not (tmp_path / "first" / "gradebook.sqlite").exists()
    grades = Gradebook(postgres_url).all("autograd_derivative")
    assert [(g.student, g.score) for g in grades] == [("student00", 10), ("student01", 10)]
