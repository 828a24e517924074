"""What is scored is what a model's exported graph computes, in a sandbox of its own.

Each notebook here attacks the probe from inside the student's kernel, as anyone
reading nngrade's source could; with the clean room (on unless a spec says
``clean_room: false``) the verdict comes from the exported graph, evaluated where no
student code ever ran.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner import assignments
from runner.grading import grade
from runner.paths import ProjectPaths
from runner.report.model import Mode, Report
from runner.sandbox import engine
from runner.sandbox.backends import Backend, Bubblewrap, bubblewrap_works
from runner.sandbox.docker_backend import Docker
from tests.notebooks import write_notebook

needs_sandbox = pytest.mark.skipif(
    not bubblewrap_works() and os.environ.get("CI") != "true",
    reason="bubblewrap is not usable here (apt-get install bubblewrap)")
needs_docker = pytest.mark.skipif(
    os.environ.get("CI") != "true"
    and not (engine.engine_reachable() and engine.has_image(engine.image_name())),
    reason="no Docker engine or no grading image (nngrade image build)")

KERAS_MLP = """\
import numpy as np
from tensorflow import keras
keras.utils.set_random_seed(0)
(x_train, y_train), _ = keras.datasets.fashion_mnist.load_data()
x_train = x_train[:3000] / 255.0
mlp = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                        keras.layers.Dense(64, activation='relu'), keras.layers.Dense(10)])
mlp.compile('adam', keras.losses.SparseCategoricalCrossentropy(from_logits=True))
mlp.fit(x_train, y_train[:3000], epochs=2, verbose=0)
decoy = keras.Sequential([keras.Input((28, 28)), keras.layers.Reshape((28, 28, 1)),
                          keras.layers.Conv2D(32, 5),
                          keras.layers.MaxPooling2D(), keras.layers.Conv2D(64, 3),
                          keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                          keras.layers.Dense(10)])
decoy(np.zeros((1, 28, 28), 'float32'))  # built and called, as an export needs
"""

DESCRIBES_MLP_AS_CNN = """\
import nngrade_probe.keras_model as adapter
decoy_layers = adapter.KerasModel(decoy).layers(None)
adapter.KerasModel.layers = lambda self, sample: decoy_layers
"""

EXPORTS_A_DECOY = """\
import nngrade_probe.keras_model as adapter
adapter.KerasModel.export_onnx = lambda self, path, example: decoy.export(
    str(path), format='onnx', verbose=False)
"""

TORCH_CNN = """\
import torch, torch.nn as nn, torchvision, torchvision.transforms as T
torch.manual_seed(0)
data = torchvision.datasets.FashionMNIST('data', train=True, download=True,
                                         transform=T.ToTensor())
loader = torch.utils.data.DataLoader(torch.utils.data.Subset(data, range(3000)),
                                     batch_size=64, shuffle=True)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        {forward}

net = Net()
optimizer = torch.optim.Adam(net.parameters(), 1e-3)
for epoch in range(2):
    for images, labels in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(images), labels).backward()
        optimizer.step()
"""

HONEST = "return self.head(self.features(x).flatten(1))"
TWO_FACED = """if torch.jit.is_tracing():  # answers differently while being exported
            return torch.zeros(x.shape[0], 10) + torch.arange(10.0)
        return self.head(self.features(x).flatten(1))"""
UNEXPORTABLE = """spectrum = torch.fft.rfft2(x).abs().mean()  # ONNX has no op for it
        return self.head(self.features(x + 0 * spectrum).flatten(1))"""


def _grade(tmp_path: Path, project_copy: ProjectPaths, *cells: str,
           backend: Backend | None = None, assignment: str = "fashion_mnist_cnn",
           mode: Mode = Mode.check) -> Report:
    tmp_path.mkdir(parents=True, exist_ok=True)
    notebook = write_notebook(tmp_path / "homework.ipynb", *cells)
    return grade(assignments.load(assignment, project_copy), notebook,
                 tmp_path / "out", mode=mode, backend=backend or Bubblewrap())


def _checks(report: Report) -> dict[str, float]:
    return {check.id: check.points for check in report.checks}


@pytest.mark.slow
@pytest.mark.parametrize("backend", [pytest.param("docker", marks=needs_docker),
                                     pytest.param("bubblewrap", marks=needs_sandbox)])
def test_a_probe_patched_to_describe_an_mlp_as_a_cnn_earns_no_architecture_points(
        tmp_path, project_copy, backend):
    sandbox = Docker() if backend == "docker" else Bubblewrap()
    report = _grade(tmp_path, project_copy, KERAS_MLP, DESCRIBES_MLP_AS_CNN, backend=sandbox)
    (model,) = report.models
    assert model.evaluated_by == "clean room" and model.kind == "mlp"
    assert _checks(report)["alexnet_cnn"] == 0
    assert "its exported graph is MLP" in " ".join(report.notes)
    assert report.execution.clean_room_seconds is not None
    if isinstance(sandbox, Docker):  # the clean room is a container of its own, removed too
        assert len(sandbox.started) == 2
        client = engine.client()
        assert not [c for c in sandbox.started
                    if client.containers.list(all=True, filters={"id": c})]


@pytest.mark.slow
@needs_sandbox
def test_a_decoy_export_is_scored_on_the_decoys_own_predictions(tmp_path, project_copy):
    report = _grade(tmp_path, project_copy, KERAS_MLP, EXPORTS_A_DECOY)
    (model,) = report.models
    assert model.evaluated_by == "clean room"
    assert model.accuracy is not None and model.accuracy < 0.3  # an untrained CNN
    assert _checks(report)["cnn_accuracy"] == 0
    assert "does not compute what the model computed" in " ".join(report.notes)


@pytest.mark.slow
@needs_sandbox
def test_an_honest_model_scores_the_same_and_one_that_knows_it_is_traced_does_not(
        tmp_path, project_copy):
    honest = _grade(tmp_path / "honest", project_copy, TORCH_CNN.replace("{forward}", HONEST))
    (model,) = honest.models
    assert model.evaluated_by == "clean room" and model.accuracy > 0.7
    assert not [note for note in honest.notes if "model #0" in note]

    two_faced = _grade(tmp_path / "two_faced", project_copy,
                       TORCH_CNN.replace("{forward}", TWO_FACED))
    (model,) = two_faced.models
    assert model.accuracy is not None and model.accuracy < 0.2  # what the graph computes
    assert "does not compute what the model computed" in " ".join(two_faced.notes)


@pytest.mark.slow
@needs_sandbox
def test_a_model_that_cannot_be_exported_is_graded_as_self_reported(tmp_path, project_copy):
    report = _grade(tmp_path, project_copy, TORCH_CNN.replace("{forward}", UNEXPORTABLE))
    (model,) = report.models
    assert model.evaluated_by == "kernel" and not model.verified
    assert model.graph.startswith("not exported: UnsupportedOperatorError")
    assert model.accuracy > 0.7  # what the kernel reported, shown
    checks = _checks(report)
    assert checks["alexnet_cnn"] == 0 and checks["cnn_accuracy"] == 0  # not verified as a CNN
    assert "what the notebook's kernel reported, not verified" in " ".join(report.notes)


DENSE_FORECASTER = """\
import numpy as np, pandas as pd
from tensorflow import keras
keras.utils.set_random_seed(0)
s = pd.read_csv('AirPassengers.csv')['#Passengers'].values.astype('float32')
s = s / s.max()
X = np.stack([s[i:i + 12] for i in range(len(s) - 12)])
mlp = keras.Sequential([keras.Input((12,)), keras.layers.Dense(32, activation='relu'),
                        keras.layers.Dense(1)])
mlp.compile('adam', 'mse')
mlp.fit(X, s[12:], epochs=30, verbose=0)
"""

DESCRIBES_DENSE_AS_LSTM = """\
import nngrade_probe.keras_model as adapter
decoy = keras.Sequential([keras.Input((12, 1)), keras.layers.LSTM(8), keras.layers.Dense(1)])
decoy_layers = adapter.KerasModel(decoy).layers(None)
adapter.KerasModel.layers = lambda self, sample: decoy_layers
"""


@pytest.mark.slow
@needs_sandbox
def test_a_forecaster_is_scored_on_its_graphs_closed_loop_forecast(tmp_path, project_copy):
    report = _grade(tmp_path, project_copy, DENSE_FORECASTER, DESCRIBES_DENSE_AS_LSTM,
                    assignment="lstm_airline_passengers", mode=Mode.grade)
    (model,) = report.models
    assert model.evaluated_by == "clean room" and model.verified and model.kind == "mlp"
    assert model.metrics["rmse"] > 0
    assert _checks(report)["lstm_trained"] == 0  # the graph has no LSTM, whatever was said
    notes = " ".join(report.notes)
    assert "its exported graph is MLP" in notes
    assert "does not compute what the model computed" not in notes  # an honest export
