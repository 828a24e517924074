"""Generative notebooks graded end to end on real Fashion-MNIST: the parts of a VAE found
in its exported graphs, its decoder sampled from the grader's noise and hidden test images
rebuilt in the clean room, the samples judged by nngrade's own network; and a "generator"
that hands back training images loses the quality points and is told why."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from runner import assignments
from runner.grading import grade
from runner.report.model import Mode
from runner.sandbox.backends import Bubblewrap, bubblewrap_works
from tests.notebooks import write_notebook

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not bubblewrap_works() and os.environ.get("CI") != "true",
                       reason="bubblewrap is not usable here (apt-get install bubblewrap)"),
    pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                       reason="Fashion-MNIST files not installed "
                              "(apt-get install dataset-fashion-mnist)")]

DATA = """\
import numpy as np, torch
from torch import nn
import torchvision
torch.manual_seed(0)
data = torchvision.datasets.FashionMNIST(root='data', train=True, download=True)
x = data.data[:6000].float().div(255).view(-1, 784)
"""

# The PyTorch example's VAE, its halves as methods; a few seconds of training.
SMALL_VAE = DATA + """\
class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 256), nn.Linear(256, 8), nn.Linear(256, 8)
        self.fc3, self.fc4 = nn.Linear(8, 256), nn.Linear(256, 784)

    def encode(self, x):
        h = torch.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)

    def decode(self, z):
        return torch.sigmoid(self.fc4(torch.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)), mu, logvar

model = VAE()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(3):
    for i in range(0, len(x), 100):
        rebuilt, mu, logvar = model(x[i:i + 100])
        loss = (nn.functional.binary_cross_entropy(rebuilt, x[i:i + 100], reduction='sum')
                - 0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""

# Returns one of 1,000 public training images, picked by the noise: perfect-looking samples.
COPIER = DATA + """\
class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer('bank', x[:1000].clone())
        self.register_buffer('pick', torch.randn(16, 1000))
        self.fc1, self.fc2 = nn.Linear(16, 16), nn.Linear(16, 784)

    def forward(self, z):
        return self.bank[(z @ self.pick).argmax(dim=1)] + 0 * self.fc2(self.fc1(z))

generator = Generator()
optimizer = torch.optim.Adam(generator.parameters(), lr=1e-3)
for step in range(5):
    optimizer.zero_grad()
    generator(torch.randn(8, 16)).mean().backward()
    optimizer.step()
"""


def _grid_shape(grid) -> tuple[int, ...]:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(grid.png)))).shape


def test_a_vae_is_sampled_and_rebuilds_hidden_images_in_the_clean_room(tmp_path,
                                                                       project_copy):
    notebook = write_notebook(tmp_path / "vae.ipynb", SMALL_VAE)
    report = grade(assignments.load("vae_fashion_mnist", project_copy), notebook,
                   tmp_path / "out", mode=Mode.grade, backend=Bubblewrap())
    assert report.task == "generation" and "hidden official test set" in report.evaluation_set
    (model,) = report.models
    assert model.evaluated_by == "clean room" and model.verified
    assert set(model.metrics) == {"frechet", "coverage", "memorised", "reconstruction_rmse"}
    assert model.metrics["memorised"] == 0
    assert 0.05 < model.metrics["reconstruction_rmse"] < 0.3
    points = {check.id: check.points for check in report.checks}
    assert points["executes"] == 1 and points["vae_trained"] == 2
    assert points["reconstruction"] > 0
    assert any("SHA-256" in note for note in report.notes)  # which yardstick judged
    samples, rebuilt = report.grids
    assert (samples.key, rebuilt.key) == ("samples", "reconstructions")
    assert samples.model == rebuilt.model == "#0 model"
    assert _grid_shape(samples)[0] < _grid_shape(samples)[1]  # two rows of eight
    html = (tmp_path / "out" / "report.html").read_text()
    assert "grid-samples" in html and "grid-reconstructions" in html


def test_a_generator_that_returns_training_images_earns_no_quality_points(tmp_path,
                                                                         project_copy):
    notebook = write_notebook(tmp_path / "copier.ipynb", COPIER)
    report = grade(assignments.load("vae_fashion_mnist", project_copy), notebook,
                   tmp_path / "out", mode=Mode.grade, backend=Bubblewrap())
    (model,) = report.models
    assert model.metrics["memorised"] == 1.0
    assert "frechet" not in model.metrics and "coverage" not in model.metrics
    checks = {check.id: check for check in report.checks}
    assert checks["sample_quality"].points == 0 and checks["coverage"].points == 0
    assert "copies of public training images" in checks["sample_quality"].message
    assert checks["vae_trained"].points == 0  # a decoder, but no encoder of a VAE
