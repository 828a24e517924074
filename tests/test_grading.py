"""End to end: real notebooks graded in the real sandbox on real Fashion-MNIST."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner import assignments
from runner.grading import grade
from runner.report.model import Mode, Report, Status
from runner.sandbox.backends import Bubblewrap, bubblewrap_works
from tests.notebooks import (
    AUTOGRAD_GOOD,
    KERAS_SMALL,
    TORCH_SMALL,
    with_limits,
    write_notebook,
)

needs_sandbox = pytest.mark.skipif(
    not bubblewrap_works() and os.environ.get("CI") != "true",
    reason="bubblewrap is not usable here (apt-get install bubblewrap)")


def _grade(assignment, notebook: Path, out: Path, mode=Mode.grade) -> Report:
    loaded = assignment if not isinstance(assignment, str) else assignments.load(assignment)
    return grade(loaded, notebook, out, mode=mode, backend=Bubblewrap())


@pytest.mark.slow
@needs_sandbox
def test_autograd_notebook_gets_full_marks_and_all_report_files(tmp_path):
    notebook = write_notebook(tmp_path / "hw1.ipynb", *AUTOGRAD_GOOD)
    report = _grade("autograd_derivative", notebook, tmp_path / "out")
    assert (report.score, report.max_score, report.status) == (10, 10, Status.graded)
    for name in ("report.json", "report.md", "report.html", "executed.ipynb"):
        assert (tmp_path / "out" / name).is_file()
    saved = Report.model_validate_json((tmp_path / "out" / "report.json").read_text())
    assert saved.score == 10 and saved.sandbox.backend == "bubblewrap"
    assert saved.sandbox.network is False
    assert any("!pip install torch" in line for line in saved.execution.neutralised)
    executed = json.loads((tmp_path / "out" / "executed.ipynb").read_text())
    assert "tensor([" in json.dumps(executed["cells"][3]["outputs"])


@pytest.mark.slow
@needs_sandbox
def test_torch_models_are_found_measured_and_checked(tmp_path):
    notebook = write_notebook(tmp_path / "cnn.ipynb", *TORCH_SMALL)
    report = _grade("fashion_mnist_cnn", notebook, tmp_path / "out", mode=Mode.check)
    assert report.evaluation_set.startswith("public held-out split")
    kinds = sorted(m.kind for m in report.models)
    assert kinds == ["cnn", "mlp"]
    cnn = next(m for m in report.models if m.kind == "cnn")
    assert cnn.conv_kernels == [5, 3] and cnn.conv_channels == [8, 16]
    assert cnn.conv_pool_blocks == 2  # functional F.max_pool2d counted
    assert cnn.accuracy is not None and cnn.accuracy > 0.7
    checks = {c.id: c for c in report.checks}
    assert checks["alexnet_cnn"].passed and checks["executes"].passed
    assert not checks["width_comparison"].passed and not checks["depth_comparison"].passed
    # Each model was exported, and its graph is the architecture the kernel described.
    assert cnn.graph == "CNN 8/16 channels, kernels 5, 3, 2 conv-pool blocks"
    assert all(m.graph and not m.graph.startswith("not exported") for m in report.models)
    assert not [note for note in report.notes if "exported graph is" in note]


@needs_sandbox
def test_a_notebook_cannot_read_the_hidden_labels(tmp_path):
    notebook = write_notebook(tmp_path / "cheat.ipynb", """\
import gzip, numpy as np
with gzip.open('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz') as f:
    y_test = np.frombuffer(f.read(), np.uint8, offset=8)
""", "print(y_test[:10])")
    report = _grade("fashion_mnist_cnn", notebook, tmp_path / "out")
    cell = report.execution.cells[0]
    assert cell.status == "error" and cell.error.startswith("FileNotFoundError")
    assert report.execution.cells[1].status == "skipped"
    assert report.status is Status.partial
    assert report.score == 0


@pytest.mark.slow
@needs_sandbox
def test_a_notebook_that_loads_another_dataset_is_told_so_in_words(tmp_path):
    """CIFAR-10 loaded for a Fashion-MNIST assignment: named, not just a download error."""
    notebook = write_notebook(tmp_path / "cifar.ipynb", """\
import torchvision
train = torchvision.datasets.FashionMNIST('data', train=True, download=True)
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
""")
    report = _grade("fashion_mnist_cnn", notebook, tmp_path / "out")
    assert report.execution.cells[0].status == "error"
    named = [note for note in report.notes if note.startswith("the notebook loads ")]
    assert named == [
        "the notebook loads CIFAR-10 (keras.datasets.cifar10), but this assignment is graded "
        "on Fashion-MNIST: the sandbox has no network and holds only Fashion-MNIST's public "
        "part, so that loader cannot get its data. Load Fashion-MNIST instead."]


@needs_sandbox
def test_host_environment_and_project_files_are_invisible(tmp_path, monkeypatch):
    monkeypatch.setenv("NNGRADE_TEST_SECRET", "s3cr3t")
    root = Path(__file__).resolve().parents[1]
    notebook = write_notebook(tmp_path / "peek.ipynb", f"""\
import os, pathlib
seen = [os.environ.get('NNGRADE_TEST_SECRET'),
        pathlib.Path({str(root / 'graders')!r}).exists(),
        pathlib.Path({str(root / 'reference_solutions')!r}).exists(),
        pathlib.Path('/etc/shadow').exists()]
assert seen == [None, False, False, False], seen
""")
    report = _grade("autograd_derivative", notebook, tmp_path / "out")
    assert report.execution.cells[0].status == "ok", report.execution.cells[0].error


@pytest.mark.slow
@needs_sandbox
def test_cell_timeout_is_reported_and_later_cells_skipped(tmp_path, project_copy):
    assignment = with_limits(project_copy, "autograd_derivative",
                          "limits: {total_seconds: 120, cell_seconds: 3, memory_mb: 2048}")
    notebook = write_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(60)", "x = 1")
    report = _grade(assignment, notebook, tmp_path / "out")
    assert [c.status for c in report.execution.cells] == ["timeout", "skipped"]
    assert "ran past its 3 s limit" in report.execution.cells[0].error
    executes = next(c for c in report.checks if c.id == "executes")
    assert executes.message.startswith("code cell 1 ran past its time limit")
    assert report.execution.seconds < 60


@needs_sandbox
def test_memory_bomb_is_killed_and_explained(tmp_path, project_copy):
    assignment = with_limits(project_copy, "autograd_derivative",
                          "limits: {total_seconds: 120, cell_seconds: 100, memory_mb: 600}")
    notebook = write_notebook(tmp_path / "bomb.ipynb", """\
blocks = []
while True:
    blocks.append(bytearray(50 * 2**20))
""")
    report = _grade(assignment, notebook, tmp_path / "out")
    assert report.status is Status.partial
    assert "used more than 600 MB of memory" in report.execution.stopped
    assert report.score == 0
    assert report.execution.seconds < 60  # killed at the limit, not at the time limit
    assert report.execution.cells[0].status == "killed"


@pytest.mark.slow
@needs_sandbox
def test_colab_keras_notebook_runs_offline_and_each_fit_is_measured(tmp_path):
    notebook = write_notebook(tmp_path / "colab.ipynb", *KERAS_SMALL)
    report = _grade("fashion_mnist_cnn", notebook, tmp_path / "out")
    assert report.status is Status.graded, report.execution.cells
    assert len(report.execution.neutralised) == 3
    assert report.evaluation_set.startswith("hidden official test set (10000 images)")
    cnns = [m for m in report.models if m.kind == "cnn"]
    assert [m.conv_channels for m in cnns] == [[8, 16], [16, 32]]  # both, despite `model` reuse
    assert all(m.accuracy and m.accuracy > 0.7 for m in cnns), [m.accuracy for m in cnns]
    assert all(m.input_format and m.input_format.startswith("28x28x1") for m in cnns)
    checks = {c.id: c for c in report.checks}
    assert checks["width_comparison"].passed and checks["alexnet_cnn"].passed
    assert not checks["mlp_baseline"].passed
    assert all(m.graph and m.graph.startswith(f"CNN {'/'.join(map(str, m.conv_channels))} ")
               for m in cnns), [m.graph for m in cnns]


@pytest.mark.slow
def test_check_without_a_sandbox_runs_and_says_so(tmp_path):
    """A student's own laptop may lack bubblewrap: `check` still works, and says it."""
    notebook = write_notebook(tmp_path / "mine.ipynb", *AUTOGRAD_GOOD)
    env = {**os.environ, "COLUMNS": "120"}
    result = subprocess.run(
        [sys.executable, "-m", "runner", "check", "autograd_derivative", str(notebook),
         "--backend", "none"], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "10 / 10" in result.stdout
    report = Report.model_validate_json((tmp_path / "mine-check" / "report.json").read_text())
    assert report.mode is Mode.check and not report.sandbox.isolated
    assert any("WITHOUT a sandbox" in note for note in report.notes)


@pytest.mark.slow
@needs_sandbox
def test_flooded_output_is_capped_in_the_executed_notebook(tmp_path, project_copy):
    assignment = with_limits(project_copy, "autograd_derivative",
                          "limits: {total_seconds: 120, cell_seconds: 60, output_kb: 64}")
    notebook = write_notebook(tmp_path / "flood.ipynb",
                              "for i in range(200_000):\n    print('spam' * 10, i)")
    report = _grade(assignment, notebook, tmp_path / "out")
    assert report.execution.cells[0].status == "ok"
    executed = tmp_path / "out" / "executed.ipynb"
    assert executed.stat().st_size < 200 * 1024  # 8 MB were printed
    assert "output limit reached" in executed.read_text()
