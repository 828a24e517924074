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
