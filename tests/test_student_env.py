"""One student environment: a notebook imports the same packages in both sandboxes.

The local sandbox runs notebooks with .student-env (made by setup.sh from
image/requirements.txt), the Docker backend with the grading image built from the same
list. A notebook that uses pandas, seaborn, scikit-learn, SciPy, tqdm and OpenCV must
compute the same thing with the same versions in both, and import none of nngrade's own
packages in either. The Docker half needs an engine and the grading image, as
tests/test_docker.py does (skipped without them, except under CI=true).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from runner import assignments
from runner.errors import SandboxUnavailable
from runner.grading import grade
from runner.i18n.render import render
from runner.report.model import Mode, Report, Status
from runner.sandbox import engine, student_env
from runner.sandbox.backends import Bubblewrap, bubblewrap_works
from runner.sandbox.select import choose_backend
from tests.notebooks import AUTOGRAD_GOOD, write_notebook

ROOT = Path(__file__).resolve().parents[1]
NNGRADE_PACKAGES = ("docker", "sqlalchemy", "psycopg", "ray", "typer", "runner")
STUDENT_PACKAGES = ("pandas", "seaborn", "scikit-learn", "scipy", "tqdm",
                    "opencv-python-headless")

USES_EACH = """\
import json
from importlib.metadata import version

import cv2
import numpy as np
import pandas as pd
import seaborn as sns
from scipy import linalg, stats
from sklearn.linear_model import LinearRegression
from tqdm.notebook import tqdm

frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "group": ["a", "a", "b", "b"]})
frame["y"] = 2 * frame["x"] + 1
axes = sns.scatterplot(data=frame, x="x", y="y", hue="group")
image = np.zeros((8, 8), np.uint8)
cv2.rectangle(image, (2, 2), (5, 5), 255, -1)
line = LinearRegression().fit(frame[["x"]], frame["y"])
result = {
    "pandas": frame.groupby("group")["y"].sum().to_dict(),
    "seaborn": len(axes.collections[0].get_offsets()),
    "sklearn": [round(float(line.coef_[0]), 6), round(float(line.intercept_), 6)],
    "scipy": [float(stats.norm.cdf(0.0)), round(float(linalg.det([[2.0, 0.0], [0.0, 3.0]])), 6)],
    "tqdm": sum(tqdm(range(10))),
    "cv2": int(cv2.countNonZero(image)),
    "versions": {name: version(name) for name in %r},
}
print("RESULT", json.dumps(result, sort_keys=True))
"""

TRIES_NNGRADES = """\
import importlib, json, pathlib
outcome = {}
for name in %r:
    try:
        importlib.import_module(name)
        outcome[name] = "imported"
    except ImportError as error:
        outcome[name] = type(error).__name__
outcome["nngrade's environment"] = pathlib.Path(%r).exists()
print("HIDDEN", json.dumps(outcome, sort_keys=True))
"""

EXPECTED = {
    "pandas": {"a": 8.0, "b": 16.0},
    "seaborn": 4,
    "sklearn": [2.0, 1.0],
    "scipy": [0.5, 6.0],
    "tqdm": 45,
    "cv2": 16,
}


def _docker_ready() -> bool:
    return engine.engine_reachable() and engine.has_image(engine.image_name())


def _bubblewrap():
    return Bubblewrap()


def _docker():
    from runner.sandbox.docker_backend import Docker

    return Docker()


BACKENDS = [
    pytest.param(_bubblewrap, id="local", marks=pytest.mark.skipif(
        not bubblewrap_works() and os.environ.get("CI") != "true",
        reason="bubblewrap is not usable here (apt-get install bubblewrap)")),
    pytest.param(_docker, id="docker", marks=pytest.mark.skipif(
        os.environ.get("CI") != "true" and not _docker_ready(),
        reason="no Docker engine or no grading image (nngrade image build)")),
]


def _printed(executed: Path, tag: str) -> dict:
    """The JSON a cell printed after ``tag``, read from the executed notebook."""
    notebook = nbformat.read(executed, as_version=4)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            for line in str(output.get("text", "")).splitlines():
                if line.startswith(tag + " "):
                    return json.loads(line[len(tag) + 1:])
    raise AssertionError(f"no {tag} line in {executed}")


@pytest.mark.slow
@pytest.mark.parametrize("make_backend", BACKENDS)
def test_both_sandboxes_import_the_same_student_packages_and_none_of_nngrades(
        tmp_path, make_backend):
    notebook = write_notebook(tmp_path / "libraries.ipynb", USES_EACH % (STUDENT_PACKAGES,),
                              TRIES_NNGRADES % (NNGRADE_PACKAGES, sys.prefix))
    out = tmp_path / "out"
    report = grade(assignments.load("autograd_derivative"), notebook, out, mode=Mode.check,
                   backend=make_backend())
    errors = [cell.error for cell in report.execution.cells]
    assert report.status is Status.graded, errors
    assert not [note for note in report.notes if "student environment" in note]

    result = _printed(out / "executed.ipynb", "RESULT")
    assert result.pop("versions") == {name: student_env.listed()[name]
                                      for name in STUDENT_PACKAGES}
    assert result == EXPECTED
    hidden = _printed(out / "executed.ipynb", "HIDDEN")
    assert hidden == {**dict.fromkeys(NNGRADE_PACKAGES, "ModuleNotFoundError"),
                      "nngrade's environment": False}


def test_every_package_of_the_list_is_pinned():
    """Unpinned, the image and the student environment could each get another version."""
    lines = [line.strip() for line in student_env.REQUIREMENTS.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert len(student_env.pins("\n".join(lines))) == len(lines) > 0, lines
    assert set(STUDENT_PACKAGES) <= set(student_env.listed())


def _nngrade(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **env}
    return subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True,
                          text=True, env=environ, timeout=300)


@pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap is not usable here")
def test_local_sandbox_without_the_student_environment_says_to_run_setup(tmp_path):
    notebook = write_notebook(tmp_path / "hw.ipynb", *AUTOGRAD_GOOD)
    missing = tmp_path / "nowhere" / "bin" / "python"
    result = _nngrade("grade", "autograd_derivative", str(notebook), "--out",
                      str(tmp_path / "out"), "--backend", "local",
                      NNGRADE_STUDENT_PYTHON=str(missing))
    assert result.returncode == 2
    assert f"the student environment is missing: {missing} does not exist" in result.stderr
    assert "./setup.sh" in result.stderr
    assert not (tmp_path / "out").exists()


def test_nngrades_own_python_is_refused_as_the_student_environment(monkeypatch):
    monkeypatch.setenv(student_env.SETTING, sys.executable)
    with pytest.raises(SandboxUnavailable) as refused:
        choose_backend("local", allow_unsandboxed=False)
    assert "has nngrade itself installed" in refused.value.message
    assert "./setup.sh" in refused.value.hint


@pytest.mark.slow
def test_without_a_sandbox_a_missing_environment_falls_back_and_the_report_says_so(tmp_path):
    notebook = write_notebook(tmp_path / "mine.ipynb", *AUTOGRAD_GOOD)
    result = _nngrade("check", "autograd_derivative", str(notebook), "--backend", "none",
                      NNGRADE_STUDENT_PYTHON=str(tmp_path / "nowhere" / "python"))
    assert result.returncode == 0, result.stderr
    report = Report.model_validate_json((tmp_path / "mine-check" / "report.json").read_text())
    assert report.score == report.max_score
    assert any(note.startswith(f"the notebook ran with nngrade's own Python ({sys.executable})")
               and "./setup.sh" in note for note in report.notes), report.notes


def test_a_drifted_environment_is_named_in_the_report():
    listed = student_env.listed()
    found = student_env.StudentPython(
        python="/somewhere/bin/python", prefix="/somewhere", base_prefix="/usr", missing=[],
        installed={**listed, "pandas": "2.2.3", "seaborn": None})
    [message] = student_env.report_notes(found)
    note = render(message, "en")
    assert f"pandas 2.2.3 (listed: {listed['pandas']})" in note
    assert f"seaborn missing (listed: {listed['seaborn']})" in note
    assert "./setup.sh" in note
