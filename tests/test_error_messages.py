"""Errors a person reads speak their language: message and hint are catalogue messages.

``NngradeError.message``/``.hint`` stay English (logs, tracebacks, older callers);
``in_language`` renders them in any language, with paths, ids and numbers as they are
and text from outside (a YAML parser's complaint) passed through untranslated.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import assignments
from runner.datasets import DatasetNotFound, MalformedDataFile, locate
from runner.datasets._idx import read_idx
from runner.datasets.registry import get_spec
from runner.errors import NotebookError, SpecError, UnknownAssignment
from runner.i18n.render import render
from runner.notebook import read_submission


def test_an_unknown_assignment_is_named_in_russian_with_the_closest_ids(project_copy):
    with pytest.raises(UnknownAssignment) as raised:
        assignments.load("fashion-mnist-cnn", project_copy)
    message, hint = raised.value.in_language("ru")
    assert message == "неизвестное задание 'fashion-mnist-cnn'"
    assert hint is not None and hint.startswith("Возможно, вы имели в виду fashion_mnist_cnn")
    assert "Известные задания: " in hint and "autograd_derivative" in hint
    # English stays what it was, for logs and for code that reads .message
    assert raised.value.message == "unknown assignment 'fashion-mnist-cnn'"
    assert raised.value.in_language("en") == (raised.value.message, raised.value.hint)


def test_no_assignments_at_all_says_so_in_both_languages(tmp_path):
    error = UnknownAssignment.for_id("hw1", [])
    assert error.hint == "No assignments are installed."
    assert error.in_language("ru")[1] == "Не установлено ни одного задания."


def test_a_malformed_spec_names_file_field_and_line_in_russian(project_copy):
    path = project_copy.assignments / "fashion_mnist_cnn" / "assignment.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("points: 3\n", "pionts: 3\n", 1), encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        assignments.load("fashion_mnist_cnn", project_copy)
    message, hint = raised.value.in_language("ru")
    assert message.startswith(f"{path}: ")
    assert "checks[2].pionts (строка " in message and "checks[2].points (строка " in message
    assert hint == "Исправьте описание задания и проверьте его командой `nngrade show ID`."
    assert "checks[2].pionts (line " in raised.value.message


def test_a_spec_that_is_not_yaml_says_which_line_in_russian(tmp_path):
    folder = tmp_path / "hw"
    folder.mkdir()
    (folder / "assignment.yaml").write_text("id: hw\nchecks: [\n", encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        assignments.load_spec(folder / "assignment.yaml")
    message, _ = raised.value.in_language("ru")
    assert message.startswith(f"{folder / 'assignment.yaml'}: строка ")
    assert ": некорректный YAML: " in message
    assert ": not valid YAML: " in raised.value.message  # the parser's own words: as they are


def test_a_spec_whose_id_is_not_its_folder_in_russian(project_copy):
    path = project_copy.assignments / "fashion_mnist_cnn" / "assignment.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "id: fashion_mnist_cnn", "id: other_id", 1), encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        assignments.load("fashion_mnist_cnn", project_copy)
    assert raised.value.in_language("ru")[0] == (
        f"{path}: id: указано 'other_id', но папка называется 'fashion_mnist_cnn'")


def test_a_notebook_that_is_not_json_is_refused_in_russian_with_its_path(tmp_path):
    path = tmp_path / "hw.ipynb"
    path.write_text("print('hello')\n", encoding="utf-8")
    with pytest.raises(NotebookError) as raised:
        read_submission(path)
    message, hint = raised.value.in_language("ru")
    assert message == f"{path}: это не ноутбук Jupyter: некорректный JSON (строка 1, столбец 1)"
    assert hint == "Сохраните ноутбук из Jupyter/Colab в формате .ipynb, а не .py или .html."
    assert raised.value.message == (
        f"{path}: not a Jupyter notebook: not valid JSON (line 1, column 1)")


def test_a_missing_notebook_in_russian(tmp_path):
    with pytest.raises(NotebookError) as raised:
        read_submission(tmp_path / "nope.ipynb")
    assert raised.value.in_language("ru") == (f"{tmp_path / 'nope.ipynb'}: такого файла нет",
                                              "Проверьте путь к ноутбуку.")


def test_dataset_not_found_keeps_an_english_summary_and_renders_in_russian(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NNGRADE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("NNGRADE_DATA_DIR", raising=False)
    monkeypatch.delenv("NNGRADE_OFFLINE", raising=False)
    spec = get_spec("fashion_mnist").model_copy(update={
        "system_dirs": [tmp_path / "no-such-dir"], "base_urls": []})
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetNotFound) as raised:
        locate(spec, empty, allow_download=False)
    error = raised.value
    assert error.summary == f"dataset 'fashion_mnist' ({spec.title}) not found"
    assert render(error.summary_detail, "ru") == (
        f"набор данных 'fashion_mnist' ({spec.title}) не найден")
    message, hint = error.in_language("ru")
    assert f"папка данных {empty}: файлов набора данных нет" in message
    assert f"системная папка {tmp_path / 'no-such-dir'}: не существует" in message
    assert "скачивание: запрещено вызывающим кодом" in message
    assert hint is not None and hint.startswith("Как исправить: ")
    assert "--data-dir" in hint and "$NNGRADE_DATA_DIR" in hint
    # str() stays English, message and hint, as before
    assert str(error).startswith(error.message) and "To fix: " in str(error)
    assert f"data dir {empty}: no dataset files" in str(error)


def test_a_malformed_data_file_counts_its_bytes_in_russian(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05" + bytes(4))
    with pytest.raises(MalformedDataFile) as raised:
        read_idx(path)
    message, hint = raised.value.in_language("ru")
    assert message == (f"{path}: размер 12 байт не соответствует форме (5,) с типом uint8 из "
                       "заголовка (ожидалось 13 байт; файл обрезан или в конце лишние данные)")
    assert hint == "Замените файл целой копией набора данных."
    assert raised.value.problem.startswith("size 12 bytes does not match")
