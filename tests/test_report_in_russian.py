"""A student-style notebook graded for a Russian course: every sentence of its report is
Russian, and the same report renders in English from its data without grading again."""

from __future__ import annotations

import os
import re

import pytest

from runner import assignments
from runner.grading import grade
from runner.i18n.render import render
from runner.report.markdown import render_markdown
from runner.report.model import Mode, Report
from runner.report.translate import in_language
from runner.sandbox.backends import Bubblewrap, bubblewrap_works
from tests.notebooks import write_notebook

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not bubblewrap_works() and os.environ.get("CI") != "true",
    reason="bubblewrap is not usable here (apt-get install bubblewrap)")]

CYRILLIC = re.compile("[А-Яа-яЁё]")
ENGLISH_PHRASES = ("was served", "the notebook", "written into the code", "compatibility",
                   "calibrated", "training-data", "not exported", "ran past", "worth a look")

# Written the way a 2021 Colab homework was: Keras 2 names, np.float, an answer table.
STUDENT = (
    """\
import numpy as np
from tensorflow import keras
from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense
(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
x_train = (x_train[:3000, ..., None] / 255.0).astype(np.float)
y_train = y_train[:3000]
""",
    """\
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((28, 28, 1)), Conv2D(8, 5, activation='relu'),
                          MaxPooling2D(), Conv2D(16, 3, activation='relu'), MaxPooling2D(),
                          Flatten(), Dense(10, activation='softmax')])
model.compile(keras.optimizers.Adam(lr=0.002), 'sparse_categorical_crossentropy')
model.fit(x_train, y_train, epochs=1, batch_size=64, verbose=0)
""",
    "answers = " + repr(list(range(30_000))),
)


@pytest.fixture(scope="module")
def russian(tmp_path_factory: pytest.TempPathFactory) -> Report:
    folder = tmp_path_factory.mktemp("ru")
    notebook = write_notebook(folder / "hw.ipynb", *STUDENT)
    return grade(assignments.load("fashion_mnist_cnn"), notebook, folder / "out",
                 mode=Mode.check, backend=Bubblewrap(), language="ru")


def test_every_sentence_of_the_report_is_russian(russian: Report) -> None:
    assert russian.language == "ru" and russian.execution.cells[0].status == "ok"
    ids = [note.id for note in russian.note_details]
    assert "note.compat.numpy_alias" in ids and "note.compat.lr" in ids
    assert "note.large_literals" in ids
    texts = [russian.assignment_title, russian.evaluation_set, *russian.notes,
             *(c.title for c in russian.checks), *(c.message for c in russian.checks),
             *(m.input_format or "" for m in russian.models),
             *(m.graph or "" for m in russian.models)]
    assert [text for text in texts if text and not CYRILLIC.search(text)] == []
    page = render_markdown(russian)
    assert [phrase for phrase in ENGLISH_PHRASES if phrase in page] == []
    assert "ячейка кода 3 содержит 139 КБ данных" in page


def test_the_same_report_in_english_from_its_data(russian: Report) -> None:
    english = in_language(russian, "en")
    assert english.notes == [render(note, "en") for note in russian.note_details]
    assert any(note.startswith("compatibility: `lr=` of Adam") for note in english.notes)
    assert "code cell 3 holds 139 KB of data" in " ".join(english.notes)
    assert [m.input_format.split(" (")[0] for m in english.models] == [
        m.input_format.split(" (")[0] for m in russian.models]
    assert [text for m in english.models for text in (m.input_format, m.graph)
            if CYRILLIC.search(text or "")] == []
    assert in_language(english, "ru").notes == russian.notes
