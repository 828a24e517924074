"""The command line speaks the reader's language: its output, its errors and its --help.

The real `nngrade` runs in a subprocess, as a user runs it; nothing here grades.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from runner.batch.intake import collect
from runner.cli_language import TYPER_CATALOGUES, language_from_argv
from tests.conftest import ROOT

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def nngrade(*args: str, lang: str | None = None, **env: str) -> subprocess.CompletedProcess:
    """`nngrade ARGS` with $NNGRADE_LANG set to ``lang`` (unset when None) and LANG=C."""
    environ = {k: v for k, v in os.environ.items() if k not in ("NNGRADE_LANG", "NNGRADE_OFFLINE")}
    environ.update({"COLUMNS": "200", "NO_COLOR": "1", "LANG": "C", **env})
    environ.pop("LC_ALL", None)
    if lang is not None:
        environ["NNGRADE_LANG"] = lang
    return subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True,
                          text=True, env=environ, timeout=120)


def test_help_in_russian_from_the_environment():
    helped = nngrade("--help", lang="ru")
    assert helped.returncode == 0, helped.stderr
    out = helped.stdout
    assert "Использование:" in out and "[ПАРАМЕТРЫ] КОМАНДА [АРГУМЕНТЫ]" in out
    assert "─ Параметры ─" in out and "─ Команды ─" in out
    assert "Показать эту справку и выйти." in out
    assert "Режим преподавателя: все проверки, оценка на скрытой тестовой выборке." in out
    assert not re.search(r"\b(Usage|Options|Commands|Instructor mode)\b", out)


def test_command_help_in_russian_from_the_flag():
    helped = nngrade("grade", "--help", "--lang=ru", lang="en")
    assert helped.returncode == 0, helped.stderr
    out = helped.stdout
    assert "─ Аргументы ─" in out and "─ Параметры ─" in out
    assert "[обязательно]" in out and "[по умолчанию: auto]" in out
    assert "[переменная окружения: NNGRADE_DATA_DIR]" in out
    assert "Сданный файл .ipynb или архив .zip / .tar.gz с ним." in out
    assert "Запускать без изоляции" in out


@pytest.mark.parametrize(("args", "lang"), [(("--help", "--lang", "en"), "ru"),
                                            (("--help",), None)])
def test_help_in_english_when_asked_or_by_default(args, lang):
    helped = nngrade(*args, lang=lang)
    assert helped.returncode == 0, helped.stderr
    out = helped.stdout
    assert "Usage:" in out and "─ Options ─" in out and "─ Commands ─" in out
    assert "Show this message and exit." in out
    assert "Instructor mode: all checks, scored on the hidden test set." in out
    assert not CYRILLIC.search(out)


def test_usage_errors_in_russian():
    missing = nngrade("grade", "autograd_derivative", "--lang", "ru")
    assert missing.returncode == 2
    assert "Использование:" in missing.stderr
    assert "Справка: 'python -m runner grade --help'." in missing.stderr
    assert "─ Ошибка ─" in missing.stderr and "Не указан аргумент 'notebook'." in missing.stderr

    typo = nngrade("lst", lang="ru")
    assert typo.returncode == 2
    assert "Нет такой команды: 'lst'. Возможно, вы имели в виду 'list'?" in typo.stderr

    zero = nngrade("verify", "--jobs", "0", lang="ru")
    assert zero.returncode == 2
    assert "Недопустимое значение '--jobs' / '-j': должно быть не меньше 1" in zero.stderr


def test_usage_errors_in_english_are_typers_own():
    missing = nngrade("grade", "autograd_derivative")
    assert missing.returncode == 2
    assert "Missing argument 'notebook'." in missing.stderr
    assert "Try 'python -m runner grade --help' for help." in missing.stderr


def test_an_unknown_assignment_is_said_in_russian():
    shown = nngrade("show", "no_such_assignment", "--lang", "ru")
    assert shown.returncode == 2
    first = shown.stderr.splitlines()[0]
    assert first.startswith("ошибка: ") and "no_such_assignment" in first
    assert CYRILLIC.search(first.removeprefix("ошибка: ")), first


def test_list_in_russian():
    for listed in (nngrade("list", "--lang", "ru"), nngrade("list", lang="ru"),
                   nngrade("--lang", "ru", "list", lang="en")):
        assert listed.returncode == 0, listed.stderr
        assert "Задания" in listed.stdout
        assert all(word in listed.stdout for word in ("идентификатор", "название", "баллы"))
        assert "autograd_derivative" in listed.stdout
    english = nngrade("list", lang="en")
    assert "Assignments" in english.stdout and "frameworks" in english.stdout


def test_show_in_the_assignments_language_unless_told():
    russian = nngrade("show", "autograd_derivative")  # the shipped assignments are Russian
    assert russian.returncode == 0, russian.stderr
    assert "Проверки" in russian.stdout and "видна студентам" in russian.stdout
    assert "Ограничения: всего" in russian.stdout
    english = nngrade("show", "autograd_derivative", "--lang", "en")
    assert "students see it" in english.stdout and "Limits: " in english.stdout


def test_report_errors_in_russian(tmp_path):
    missing = nngrade("report", str(tmp_path / "missing.json"), "--lang", "ru")
    assert missing.returncode == 2
    assert f"ошибка: {tmp_path / 'missing.json'}: нет такого файла" in missing.stderr
    assert "Укажите report.json" in missing.stderr

    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 3}')
    unreadable = nngrade("report", str(bad), "--lang", "ru")
    assert unreadable.returncode == 2
    assert "это не отчёт, который nngrade может прочитать" in unreadable.stderr


def test_an_error_later_in_a_command_is_in_the_language_it_settled_on(tmp_path):
    """`batch` settles on the assignment's language (Russian) before it reads the folder."""
    args = ("batch", "autograd_derivative", str(tmp_path / "nowhere"), "--out",
            str(tmp_path / "out"))
    russian = nngrade(*args)
    assert russian.returncode == 2
    assert russian.stderr.startswith("ошибка: "), russian.stderr
    english = nngrade(*args, lang="en")
    assert english.returncode == 2
    assert english.stderr.startswith("error: "), english.stderr


def test_intake_problems_in_the_batchs_language(tmp_path):
    root = tmp_path / "submissions"
    (root / "petrov").mkdir(parents=True)
    (root / "petrov.ipynb").write_text("{}")
    (root / "ivanov.ipynb").write_bytes(b"")
    (root / "kuznetsova").mkdir()
    for name in ("one.ipynb", "two.ipynb"):
        (root / "kuznetsova" / name).write_text("{}")

    russian = {e.student: e.problem for e in collect(root, tmp_path / "ru", language="ru")}
    assert russian == {
        "ivanov": "ivanov.ipynb — пустой файл",
        "kuznetsova": "в kuznetsova/ должен быть один ноутбук, а найдено 2 (one.ipynb, two.ipynb)",
        "petrov": "2 работы под одним идентификатором студента"}
    english = {e.student: e.problem for e in collect(root, tmp_path / "en")}
    assert english == {
        "ivanov": "ivanov.ipynb is an empty file",
        "kuznetsova": "expected one notebook in kuznetsova/, found 2 (one.ipynb, two.ipynb)",
        "petrov": "2 submissions under one student id"}


def test_the_language_before_any_spec_is_known():
    env = {"NNGRADE_LANG": "ru"}
    assert language_from_argv(["grade", "--lang", "en"], env) == "en"
    assert language_from_argv(["grade", "--lang=ru"], {}) == "ru"
    assert language_from_argv(["--lang", "ru", "list", "--lang", "en"], {}) == "en"
    assert language_from_argv(["grade", "--lang", "de"], env) == "ru"  # refused later
    assert language_from_argv(["grade", "--", "--lang", "ru"], {}) == "en"
    assert language_from_argv([], {"NNGRADE_LANG": "xx"}) == "en"


def test_typers_words_are_typers_and_shipped():
    """Each msgid is a string the installed Typer (or click) asks gettext for."""
    sources = ""
    for package in ("typer", "click"):
        try:
            module = __import__(package)
        except ImportError:
            continue
        folder = Path(module.__file__).parent
        sources += "".join(path.read_text(encoding="utf-8") for path in folder.rglob("*.py"))
    catalogues = sorted(TYPER_CATALOGUES.glob("*.po"))
    assert [path.stem for path in catalogues] == ["ru"]
    for path in catalogues:
        with path.open("rb") as source:
            catalogue = read_po(source)
        ids = [i for m in catalogue if m.id for i in ([m.id] if isinstance(m.id, str) else m.id)]
        assert ids
        for msgid in ids:
            assert f'"{msgid}"' in sources, f"{path.name}: Typer and click lack {msgid!r}"
        assert all(m.string for m in catalogue if m.id)

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["package-data"]["runner"]
    for path in catalogues:
        relative = path.relative_to(ROOT / "runner").as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in shipped), relative
