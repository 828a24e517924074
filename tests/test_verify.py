"""`nngrade verify` fails loudly when a notebook is not graded as its metadata expects."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from runner.sandbox.backends import bubblewrap_works
from tests.conftest import ROOT
from tests.notebooks import AUTOGRAD_GOOD, write_notebook


@pytest.mark.skipif(not bubblewrap_works() and os.environ.get("CI") != "true",
                    reason="bubblewrap is not usable here")
@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_verify_exits_1_and_names_the_check_that_disagrees(tmp_path, jobs):
    shutil.copytree(ROOT / "assignments" / "autograd_derivative",
                    tmp_path / "assignments" / "autograd_derivative")
    reference = tmp_path / "reference_solutions" / "autograd_derivative"
    reference.mkdir(parents=True)
    write_notebook(reference / "solution.ipynb", *AUTOGRAD_GOOD)
    fixtures = tmp_path / "tests" / "fixtures" / "notebooks" / "autograd_derivative"
    fixtures.mkdir(parents=True)
    wrong = write_notebook(fixtures / "claims_failure.ipynb", *AUTOGRAD_GOOD)
    notebook = nbformat.read(wrong, as_version=4)
    notebook.metadata["nngrade"] = {"expect": {"failed": ["uses_autograd"], "passed": ["nope"]}}
    nbformat.write(notebook, wrong)

    env = {**os.environ, "NNGRADE_HOME": str(tmp_path), "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "runner", "verify", "--jobs", jobs],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "uses_autograd: expected to fail, passed" in result.stdout
    assert "nope: no such check in the report" in result.stdout
    assert "1 of 2 notebooks were not graded as expected" in result.stderr
    # The table lists the notebooks in their order, however they finished.
    assert result.stdout.index("solution.ipynb") < result.stdout.rindex("claims_failure")


@pytest.mark.skipif(not bubblewrap_works() and os.environ.get("CI") != "true",
                    reason="bubblewrap is not usable here")
def test_verify_says_which_notebooks_it_could_not_run_for_lack_of_data(tmp_path):
    """A course's dataset that is not on this machine: named, not failed, not passed."""
    (tmp_path / "datasets").mkdir()
    spec = (ROOT / "datasets" / "fashion_mnist.yaml").read_text()
    (tmp_path / "datasets" / "elsewhere.yaml").write_text(
        spec.replace("name: fashion_mnist", "name: elsewhere")
        .replace("/usr/share/datasets/fashion-mnist", str(tmp_path / "nowhere")))
    folder = tmp_path / "assignments" / "uses_elsewhere"
    shutil.copytree(ROOT / "assignments" / "fashion_mnist_cnn", folder)
    text = (folder / "assignment.yaml").read_text()
    (folder / "assignment.yaml").write_text(
        text.replace("id: fashion_mnist_cnn", "id: uses_elsewhere")
        .replace("dataset: fashion_mnist", "dataset: elsewhere"))
    reference = tmp_path / "reference_solutions" / "uses_elsewhere"
    reference.mkdir(parents=True)
    write_notebook(reference / "solution.ipynb", "print('never runs')")

    env = {**os.environ, "NNGRADE_HOME": str(tmp_path), "COLUMNS": "200",
           "NNGRADE_OFFLINE": "1", "NNGRADE_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("NNGRADE_DATA_DIR", None)
    result = subprocess.run([sys.executable, "-m", "runner", "verify", "--backend", "local"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not run, for lack of data: dataset 'elsewhere'" in result.stdout
    assert "all 0 notebooks graded as expected; 1 not run for lack of data" in result.stdout
    assert "pass --data-dir DIR to verify them" in result.stdout
