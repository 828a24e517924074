"""A class's intake survives whatever one student hands in: it becomes that student's problem.

Every archive here is a real file, written the way the tool named writes it (see
``tests/hostile_archives.py``); every folder is real, names as raw bytes included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from runner.batch.gradebook import Grade, Gradebook
from runner.batch.intake import collect, safe_name
from runner.batch.run import student_folder
from runner.batch.similarity import notebook_code, similar_pairs
from runner.errors import NngradeError
from runner.notebook import MAX_NOTEBOOK_BYTES
from tests.hostile_archives import (
    DEFLATE64,
    ENCRYPTED_FLAG,
    UTF8_FLAG,
    Member,
    build_tar,
    build_zip,
)
from tests.notebooks import AUTOGRAD_GOOD, write_notebook

MOODLE = "_assignsubmission_file_"


def _good(tmp_path: Path, comment: str = "# mine") -> bytes:
    return write_notebook(tmp_path / f"_good{len(comment)}.ipynb", comment,
                          *AUTOGRAD_GOOD).read_bytes()


def _by_id(root: Path, tmp_path: Path) -> dict:
    return {entry.student: entry for entry in collect(root, tmp_path / "work")}


def test_unreadable_student_archives_are_their_problems_and_the_rest_are_graded(tmp_path):
    good = _good(tmp_path)
    root = tmp_path / "class"
    root.mkdir()
    (root / "ivanov.ipynb").write_bytes(good)
    (root / "petrov.zip").write_bytes(build_zip([Member(b"hw.ipynb", good,
                                                        flags=ENCRYPTED_FLAG)]))
    (root / "sidorov.zip").write_bytes(build_zip([Member(b"hw.ipynb", good, method=DEFLATE64)]))
    (root / "smirnov.zip").write_bytes(build_zip([Member(b"hw.ipynb", good,
                                                         payload=b"\xff" * 64)]))
    (root / "kuznetsova.tar.gz").write_bytes(build_tar({b"hw.ipynb": good}, "gz")[:-40])
    entries = _by_id(root, tmp_path)
    assert entries["ivanov"].notebook.read_bytes() == good
    assert {student for student, e in entries.items() if e.problem} == {
        "petrov", "sidorov", "smirnov", "kuznetsova"}
    assert entries["petrov"].problem.startswith(
        "petrov.zip: the archive is password-protected (hw.ipynb). Pack it again without a "
        "password")
    assert entries["sidorov"].problem.startswith(
        "sidorov.zip: uses a compression method Python cannot read (deflate64, for hw.ipynb): "
        "re-pack it as an ordinary .zip")
    assert entries["smirnov"].problem.startswith(
        "smirnov.zip: the archive is damaged: hw.ipynb cannot be read")
    assert "kuznetsova.tar.gz: " in entries["kuznetsova"].problem
    assert "damaged" in entries["kuznetsova"].problem


def test_a_class_archive_that_cannot_be_read_stops_with_a_clear_error(tmp_path):
    good = _good(tmp_path)
    locked = tmp_path / "class.zip"
    locked.write_bytes(build_zip([Member(f"Иван Иванов_1{MOODLE}/hw.ipynb".encode(), good,
                                         flags=ENCRYPTED_FLAG | UTF8_FLAG)]))
    with pytest.raises(NngradeError, match=r"^class\.zip: the archive is password-protected"):
        collect(locked, tmp_path / "work1")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(locked.read_bytes()[:200])
    with pytest.raises(NngradeError, match=r"^cut\.zip: not a readable archive"):
        collect(cut, tmp_path / "work2")


def test_grade_on_a_password_protected_archive_exits_2_with_one_clear_line(tmp_path):
    archive = tmp_path / "hw.zip"
    archive.write_bytes(build_zip([Member(b"hw.ipynb", _good(tmp_path),
                                          flags=ENCRYPTED_FLAG)]))
    result = subprocess.run(
        [sys.executable, "-m", "runner", "grade", "autograd_derivative", str(archive),
         "--out", str(tmp_path / "out"), "--unsafe-no-sandbox"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
    assert result.returncode == 2, result.stderr
    assert "error: hw.zip: the archive is password-protected (hw.ipynb)" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_undecodable_bytes_in_names_give_printable_distinct_storable_ids(tmp_path):
    good = _good(tmp_path)
    root = tmp_path / "class"
    root.mkdir()
    raw = os.fsencode(root)
    os.mkdir(raw + b"/\xe9l\xe8ve")  # "élève" in latin-1
    with open(raw + b"/\xe9l\xe8ve/hw.ipynb", "wb") as handle:
        handle.write(good)
    for name in (b"\xff\xfe.ipynb", b"\xfe\xff.ipynb", b"tab\there.ipynb"):
        with open(raw + b"/" + name, "wb") as handle:
            handle.write(good)
    entries = _by_id(root, tmp_path)
    assert sorted(entries) == ["\\xe9l\\xe8ve", "\\xfe\\xff", "\\xff\\xfe", "tab\\x09here"]
    for entry in entries.values():
        assert entry.problem is None and entry.notebook.read_bytes() == good
        assert entry.student.isprintable() and entry.notebook.name.isprintable()
        str(entry.notebook).encode("utf-8")  # a path every later step can write down
    # The copy handed on for a notebook whose own name is not printable:
    assert entries["\\xff\\xfe"].notebook.name == "\\xff\\xfe.ipynb"
    assert entries["\\xe9l\\xe8ve"].notebook.name == "hw.ipynb"
    book = Gradebook(f"sqlite:///{tmp_path / 'gradebook.sqlite'}")
    for entry in entries.values():
        book.put(Grade(assignment="a", student=entry.student, grader_version="v",
                       status="graded", submission_sha256=entry.sha256))
    assert sorted(g.student for g in book.all("a")) == sorted(entries)


def test_a_class_tar_with_undecodable_names_is_taken_apart_per_student(tmp_path):
    good = _good(tmp_path)
    archive = tmp_path / "class.tar"
    archive.write_bytes(build_tar({b"class/\xe9l\xe8ve/hw.ipynb": good,
                                   b"class/\xff.ipynb": good, b"class/ok.ipynb": good}))
    entries = _by_id(archive, tmp_path)
    assert sorted(entries) == ["\\xe9l\\xe8ve", "\\xff", "ok"]
    assert all(e.notebook.read_bytes() == good for e in entries.values())


def test_moodle_download_zipped_on_windows_reads_its_cp866_names(tmp_path):
    """Windows' "Send to > Compressed folder" writes names in the OEM code page, unflagged."""
    good = _good(tmp_path)
    archive = tmp_path / "moodle.zip"
    archive.write_bytes(build_zip([
        Member(f"Иван Иванов_123456{MOODLE}/hw.ipynb".encode("cp866"), good),
        Member(f"Анна Петрова_223344{MOODLE}/Домашка.ipynb".encode(), good),  # UTF-8, no flag
        Member(f"Oleg Sidorov_334455{MOODLE}/hw.ipynb".encode(), good)]))
    entries = _by_id(archive, tmp_path)
    assert sorted(entries) == ["Oleg Sidorov_334455", "Анна Петрова_223344",
                               "Иван Иванов_123456"]
    ivan = entries["Иван Иванов_123456"]
    assert (ivan.participant, ivan.full_name, ivan.problem) == ("123456", "Иван Иванов", None)
    assert entries["Анна Петрова_223344"].notebook.name == "Домашка.ipynb"


def test_one_over_long_file_name_does_not_reject_the_moodle_archive(tmp_path):
    good = _good(tmp_path)
    long_name = "Домашнее задание по нейронным сетям " * 4 + ".ipynb"  # 266 bytes
    archive = tmp_path / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(f"Иван Иванов_123456{MOODLE}/{long_name}", good)
        bundle.writestr(f"Анна Петрова_223344{MOODLE}/hw.ipynb", good)
    entries = _by_id(archive, tmp_path)
    assert sorted(entries) == ["Анна Петрова_223344", "Иван Иванов_123456"]
    ivan = entries["Иван Иванов_123456"].notebook
    assert ivan.read_bytes() == good and ivan.name.endswith(".ipynb")
    assert len(ivan.name.encode()) <= 255


def test_students_whose_ids_fold_alike_keep_their_own_notebooks_and_folders(tmp_path):
    root = tmp_path / "class"
    notebooks = {}
    for student in ("a b", "a_b", "a:b"):
        (root / student).mkdir(parents=True)
        notebooks[student] = _good(tmp_path, f"# {student} wrote this")
        with zipfile.ZipFile(root / student / "hw.zip", "w") as bundle:
            bundle.writestr("hw.ipynb", notebooks[student])
    entries = _by_id(root, tmp_path)
    assert sorted(entries) == sorted(notebooks)
    for student, entry in entries.items():
        assert entry.notebook.read_bytes() == notebooks[student]
    out = tmp_path / "out"
    assert len({student_folder(out, student) for student in entries}) == 3
    assert student_folder(out, "a_b") == out / "students" / "a_b"  # unchanged ids stay as-is
    assert safe_name("Иван Иванов_123456").startswith("Иван_Иванов_123456-")
    posing = f"a_b-{safe_name('a b')[-8:]}"  # an id spelling another's folder gets its own
    assert safe_name(posing) != safe_name("a b")
    assert safe_name("..") not in ("..", ".", "")


def test_an_oversized_notebook_is_a_problem_and_never_read_whole(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    (root / "ivanov.ipynb").write_bytes(_good(tmp_path))
    with open(root / "petrov.ipynb", "wb") as handle:  # sparse: no disk is used
        handle.truncate(MAX_NOTEBOOK_BYTES + 1)
    entries = _by_id(root, tmp_path)
    assert entries["petrov"].problem.startswith(
        "petrov.ipynb: 101 MiB, over the 100 MiB limit for a notebook")
    assert entries["ivanov"].problem is None
    assert notebook_code(root / "petrov.ipynb") == ""


def test_similarity_skips_notebooks_it_cannot_read(tmp_path):
    deep = tmp_path / "deep.ipynb"
    deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    latin = tmp_path / "latin.ipynb"
    latin.write_bytes(b'{"cells": "\xe9"}')
    good = tmp_path / "good.ipynb"
    good.write_bytes(_good(tmp_path))
    assert notebook_code(deep) == notebook_code(latin) == notebook_code(tmp_path) == ""
    code = notebook_code(good)
    assert "def grad_f(x):" in code and "!pip" not in code
    pairs = similar_pairs({"a": code, "b": code, "c": notebook_code(deep)})
    assert [(p.first, p.second) for p in pairs] == [("a", "b")]


def test_folders_nested_too_deeply_are_that_students_problem(tmp_path):
    root = tmp_path / "class"
    (root / "ivanov").mkdir(parents=True)
    (root / "ivanov" / "hw.ipynb").write_bytes(_good(tmp_path))
    deep = root.joinpath("petrov", *["d"] * 70)
    deep.mkdir(parents=True)
    (deep / "hw.ipynb").write_bytes(_good(tmp_path))
    entries = _by_id(root, tmp_path)
    assert entries["petrov"].problem == "petrov/ has folders more than 64 deep"
    assert entries["ivanov"].problem is None


def test_something_that_is_neither_file_nor_folder_is_a_problem(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    os.mkfifo(root / "petrov.ipynb")  # opening it would wait for a writer forever
    (root / "ivanov.ipynb").write_bytes(_good(tmp_path))
    entries = _by_id(root, tmp_path)
    assert entries["petrov"].problem == "petrov.ipynb is neither a regular file nor a folder"
    assert entries["ivanov"].problem is None
