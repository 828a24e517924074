"""The CLI refuses bad input with a clear message and exit status 2, before running anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.notebooks import write_notebook

NNGRADE = [sys.executable, "-m", "runner"]


def nngrade(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([*NNGRADE, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


def test_missing_notebook(tmp_path, out):
    result = nngrade("grade", "fashion_mnist_cnn", str(tmp_path / "nope.ipynb"), "--out", str(out))
    assert result.returncode == 2
    assert "nope.ipynb: no such file" in result.stderr
    assert not out.exists()


def test_file_that_is_not_json(tmp_path, out):
    notebook = tmp_path / "homework.ipynb"
    notebook.write_text("import torch\nprint('I saved a .py as .ipynb')\n")
    result = nngrade("check", "autograd_derivative", str(notebook), "--out", str(out))
    assert result.returncode == 2
    assert "not a Jupyter notebook: not valid JSON (line 1, column 1)" in result.stderr
    assert "Save the notebook from Jupyter/Colab as .ipynb" in result.stderr


def test_json_that_is_not_a_notebook(tmp_path, out):
    notebook = tmp_path / "homework.ipynb"
    notebook.write_text(json.dumps({"hello": "world"}))
    result = nngrade("check", "autograd_derivative", str(notebook), "--out", str(out))
    assert result.returncode == 2
    assert "JSON, but not a Jupyter notebook (no 'cells')" in result.stderr


def test_notebook_with_invalid_structure(tmp_path, out):
    notebook = tmp_path / "homework.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code"}], "nbformat": 4,
                                    "nbformat_minor": 5, "metadata": {}}))
    result = nngrade("check", "autograd_derivative", str(notebook), "--out", str(out))
    assert result.returncode == 2
    assert "not a valid notebook" in result.stderr


def test_unknown_assignment_suggests_close_ids(tmp_path, out):
    result = nngrade("grade", "fashion-mnist-cnn", str(tmp_path / "x.ipynb"), "--out", str(out))
    assert result.returncode == 2
    assert "unknown assignment 'fashion-mnist-cnn'" in result.stderr
    assert "Did you mean fashion_mnist_cnn" in result.stderr  # the closest first


def test_grade_refuses_to_run_unsandboxed_unless_told(tmp_path, out):
    notebook = write_notebook(tmp_path / "hw.ipynb", "x = 1")
    result = nngrade("grade", "autograd_derivative", str(notebook), "--out", str(out),
                     "--backend", "none")
    assert result.returncode == 2
    assert "runs student code without any isolation" in result.stderr
    assert "--unsafe-no-sandbox" in result.stderr
    assert not out.exists()


def test_usage_errors_and_help():
    missing_argument = nngrade("grade", "fashion_mnist_cnn")
    assert missing_argument.returncode == 2
    assert "Missing argument" in missing_argument.stderr + missing_argument.stdout
    helped = nngrade("grade", "--help")
    assert helped.returncode == 0
    assert "hidden test set" in helped.stdout and "--unsafe-no-sandbox" in helped.stdout


def test_list_and_show():
    listed = nngrade("list")
    assert listed.returncode == 0
    assert "fashion_mnist_cnn" in listed.stdout and "autograd_derivative" in listed.stdout
    shown = nngrade("show", "fashion_mnist_cnn")
    assert shown.returncode == 0
    assert "AlexNet" in shown.stdout and "width_comparison" in shown.stdout


def test_version():
    result = nngrade("--version")
    assert result.returncode == 0 and result.stdout.startswith("nngrade ")
