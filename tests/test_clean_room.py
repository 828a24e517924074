"""What the probe says about a model is checked against the model's exported graph."""

from __future__ import annotations

import os

import pytest

from runner import assignments
from runner.grading import grade
from runner.report.model import Mode
from runner.sandbox.backends import Bubblewrap, bubblewrap_works
from tests.notebooks import write_notebook

needs_sandbox = pytest.mark.skipif(
    not bubblewrap_works() and os.environ.get("CI") != "true",
    reason="bubblewrap is not usable here (apt-get install bubblewrap)")

FORGER = """\
import numpy as np
from tensorflow import keras
(x_train, y_train), _ = keras.datasets.fashion_mnist.load_data()
x_train = x_train[:3000] / 255.0
mlp = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                        keras.layers.Dense(64, activation='relu'), keras.layers.Dense(10)])
mlp.compile('adam', keras.losses.SparseCategoricalCrossentropy(from_logits=True))
mlp.fit(x_train, y_train[:3000], epochs=1, verbose=0)
""", """\
# Nine lines against nngrade's own open source: describe the MLP as an untrained CNN.
import nngrade_probe.keras_model as adapter
decoy = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 5),
                          keras.layers.MaxPooling2D(), keras.layers.Conv2D(64, 3),
                          keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                          keras.layers.Dense(10)])
decoy_layers = adapter.KerasModel(decoy).layers(None)
adapter.KerasModel.layers = lambda self, sample: decoy_layers
"""


@pytest.mark.slow
@needs_sandbox
def test_a_probe_patched_to_describe_an_mlp_as_a_cnn_is_caught_by_the_graph(tmp_path):
    notebook = write_notebook(tmp_path / "forger.ipynb", *FORGER)
    report = grade(assignments.load("fashion_mnist_cnn"), notebook, tmp_path / "out",
                   mode=Mode.check, backend=Bubblewrap())
    (model,) = report.models
    assert model.conv_kernels == [5, 3]  # what the patched probe claimed
    assert model.graph == "MLP, 2 dense layers, 1 hidden non-linearity"
    assert ("the notebook's kernel described it as CNN 32/64 channels, kernels 5, 3, 2 "
            "conv-pool blocks, but its exported graph is MLP, 2 dense layers, 1 hidden "
            "non-linearity") in " ".join(report.notes)
