"""Messages in every language: catalogues complete, plurals and numbers the language's way.

A message is an id with parameters (``runner.i18n``); each language has a folder of
gettext catalogues. These tests fail on an id one language lacks, an empty
translation, or a placeholder one language uses and another does not, so adding a
message without its Russian (or English) is caught here, not by a student.
"""

from __future__ import annotations

import json
import string
import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import NngradeError
from runner.i18n.catalogue import SOURCE_LANGUAGE, languages, read_catalogues
from runner.i18n.language import LANG_ENV, choose_language
from runner.i18n.message import msg
from runner.i18n.render import render
from runner.report.model import Report
from runner.report.translate import in_language


def _entries(language: str) -> dict[str, tuple[str, ...]]:
    """Every id of ``language`` and its template(s): one, or one per plural form."""
    found = {}
    for message in read_catalogues(language):
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        found[key] = (message.string,) if isinstance(message.string, str) else tuple(
            message.string)
    return found


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_are_there():
    assert {"en", "ru"} <= set(languages())


@pytest.mark.parametrize("language", [lang for lang in languages() if lang != SOURCE_LANGUAGE])
def test_every_message_has_a_translation_with_the_same_placeholders(language):
    source, other = _entries(SOURCE_LANGUAGE), _entries(language)
    assert sorted(set(source) - set(other)) == [], f"missing in {language}"
    assert sorted(set(other) - set(source)) == [], f"missing in {SOURCE_LANGUAGE}"
    for key in source:
        for lang, forms in ((SOURCE_LANGUAGE, source[key]), (language, other[key])):
            assert all(form.strip() for form in forms), f"{lang}: {key} is empty"
        names = {frozenset(_placeholders(form)) for form in source[key] + other[key]}
        wanted = set().union(*names)
        for form in source[key] + other[key]:  # a plural form may leave out {n}, not others
            assert _placeholders(form) | {"n"} >= wanted, f"{key}: placeholders differ"


def test_russian_plurals_and_numbers():
    assert [render(msg("unit.model", n=k), "ru") for k in (1, 2, 5, 11, 21, 104)] == [
        "1 модель", "2 модели", "5 моделей", "11 моделей", "21 модель", "104 модели"]
    assert render(msg("unit.image", n=10000), "ru") == "10\xa0000 изображений"
    assert render(msg("unit.image", n=10000), "en") == "10000 images"
    assert render(msg("evaluation.perturbation", noise=0.5), "ru") == "шумом до ±0,5"


def test_a_missing_message_or_parameter_is_shown_not_raised():
    assert render(msg("no.such.message", x=1), "ru") == 'no.such.message {"x": 1}'
    assert render(msg("unit.model"), "en") == "{n} model"


def test_the_language_is_the_flag_then_the_environment_then_the_spec(monkeypatch):
    monkeypatch.delenv(LANG_ENV, raising=False)
    assert choose_language(None, None) == "en"
    assert choose_language(None, "ru") == "ru"
    monkeypatch.setenv(LANG_ENV, "en")
    assert choose_language(None, "ru") == "en"
    assert choose_language("ru", "en") == "ru"
    with pytest.raises(NngradeError) as raised:
        choose_language("de")
    assert "--lang is 'de'" in raised.value.message and "en, ru" in (raised.value.hint or "")


def test_a_report_renders_again_in_the_other_language_from_its_data(tmp_path):
    from runner.report.model import CheckOutcome, Execution, Mode, SandboxInfo, Status

    evaluation = msg("evaluation.images.hidden", images=msg("unit.image", n=10000))
    english = Report(
        language="en", assignment="demo", assignment_title="Demo",
        assignment_titles={"en": "Demo", "ru": "Демо"}, notebook="hw.ipynb",
        submission_sha256="0" * 64, grader_version="x", mode=Mode.grade, status=Status.graded,
        score=1, max_score=1, evaluation_set=render(evaluation, "en"),
        evaluation_set_detail=evaluation,
        checks=[CheckOutcome(id="c", title="Runs", titles={"en": "Runs", "ru": "Работает"},
                             points=1, max_points=1, passed=True, message="5 models",
                             detail=msg("unit.model", n=5))],
        execution=Execution(seconds=1.0), sandbox=SandboxInfo(backend="none", isolated=False,
                                                              network=True),
        created="2026-12-02T00:00:00Z")
    path = tmp_path / "report.json"
    path.write_text(english.model_dump_json())
    russian = in_language(Report.model_validate_json(path.read_text()), "ru")
    assert russian.language == "ru" and russian.assignment_title == "Демо"
    assert (russian.checks[0].title, russian.checks[0].message) == ("Работает", "5 моделей")
    assert russian.evaluation_set == "скрытая официальная тестовая выборка (10\xa0000 изображений)"

    out = tmp_path / "ru"
    done = subprocess.run([sys.executable, "-m", "runner", "report", str(path), "--lang", "ru",
                           "--out", str(out)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "report.json").read_text())["checks"][0]["message"] == "5 моделей"
    assert "Демо" in (out / "report.md").read_text(encoding="utf-8")

    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 3}')
    done = subprocess.run([sys.executable, "-m", "runner", "report", str(bad), "--lang", "en"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "not a report nngrade can read" in done.stderr


def test_every_shipped_assignment_speaks_russian_and_english():
    from runner import assignments

    for assignment_id in assignments.available():
        spec = assignments.load(assignment_id).spec
        assert spec.language == "ru"
        for title in [spec.title, *(check.title for check in spec.checks)]:
            assert isinstance(title, dict) and set(title) == {"ru", "en"}, assignment_id


def test_the_package_ships_its_catalogues():
    folder = Path(__file__).resolve().parents[1] / "runner" / "i18n" / "locales"
    assert {path.parent.name for path in folder.glob("*/*.po")} == set(languages())


def test_every_literal_message_id_in_the_code_is_in_the_english_catalogue():
    """``msg("some.id", ...)`` with a literal id: the id must exist (ids built at run time,
    ``msg("check.executes.status." + status)``, are not literals and not checked here)."""
    import re

    from runner.i18n.catalogue import catalogue

    root = Path(__file__).resolve().parents[1]
    literal = re.compile(r'msg\(\s*"([a-z][a-z0-9_.]*)"\s*[,)]')
    known = catalogue(SOURCE_LANGUAGE).ids
    missing = sorted(
        f"{path.relative_to(root)}: {message_id}"
        for folder in ("runner", "graders") for path in (root / folder).rglob("*.py")
        for message_id in literal.findall(path.read_text(encoding="utf-8"))
        if message_id not in known)
    assert missing == []
