"""Reading submissions and neutralising lines that need the internet or Colab."""

from __future__ import annotations

import ast

import nbformat

from runner.i18n.render import render
from runner.literals import large_literals
from runner.notebook import neutralise, read_submission
from tests.notebooks import write_notebook


def test_install_and_drive_lines_become_pass_and_are_listed(tmp_path):
    path = write_notebook(tmp_path / "colab.ipynb",
                          "!pip install -q torchvision\n%pip install tensorflow\nimport numpy",
                          "from google.colab import drive\n"
                          "if True:\n    drive.mount('/content/drive')",
                          "!nvidia-smi\n!apt-get install -y graphviz")
    submission = read_submission(path)
    neutralise(submission)
    cells = [c.source for c in submission.notebook.cells if c.cell_type == "code"]
    assert cells[0].splitlines()[2] == "import numpy"
    assert cells[1].splitlines()[2].startswith("    pass  # nngrade: not run")
    ast.parse(cells[1])  # still valid Python, indentation kept
    assert "!nvidia-smi" in cells[2]  # harmless shell commands still run
    assert [line.split(":")[0] for line in submission.neutralised] == [
        "code cell 1, line 1", "code cell 1, line 2", "code cell 2, line 1",
        "code cell 2, line 3", "code cell 3, line 2"]
    assert "package installs are not run" in submission.neutralised[0]


def test_submission_hash_is_of_the_file_as_handed_in(tmp_path):
    path = write_notebook(tmp_path / "a.ipynb", "x = 1")
    first = read_submission(path)
    neutralise(first)
    assert first.sha256 == read_submission(path).sha256
    write_notebook(path, "x = 2")
    assert read_submission(path).sha256 != first.sha256


def test_a_table_written_into_the_code_is_noted_with_its_cell():
    table = "LABELS = {" + ", ".join(f"'{i:016x}': {i % 10}" for i in range(2000)) + "}"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("!pip install torch\nimport torch"),
        nbformat.v4.new_markdown_cell("a table follows"),
        nbformat.v4.new_code_cell(table),
        nbformat.v4.new_code_cell("x = [1, 2, 3]\nprint('short')")])
    notes = [render(note, "en") for note in large_literals(nb)]
    assert len(notes) == 1 and notes[0].startswith("code cell 2 holds 38 KB")
    assert "worth a look" in notes[0]
