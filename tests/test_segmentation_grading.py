"""A segmentation notebook graded end to end: the public sample where notebooks look for
it, every pixel of fresh hidden images labelled by the exported graph in the clean room,
object IoU against masks that never left the host, and the grid the report shows."""

from __future__ import annotations

import base64
import io
import os

import numpy as np
import pytest
from PIL import Image

from runner import assignments
from runner.grading import grade
from runner.report.model import Mode
from runner.sandbox.backends import Bubblewrap, bubblewrap_works
from tests.notebooks import write_notebook

needs_sandbox = pytest.mark.skipif(
    not bubblewrap_works() and os.environ.get("CI") != "true",
    reason="bubblewrap is not usable here (apt-get install bubblewrap)")

# Colab's path to the arrays, one map of logits per pixel, channels first: a small U-Net
# trained for seconds on 600 images (object IoU about 0.9 on them; 0.22 marks everything).
TINY_UNET = """\
import os
import numpy as np, torch
from torch import nn
torch.manual_seed(0)
data = np.load('/content/textured_shapes.npz')
x = torch.tensor(data['x_train'][:600]).permute(0, 3, 1, 2)
y = torch.tensor(data['y_train'][:600]).float()
print(sorted(os.listdir('textured_shapes')), len(os.listdir('textured_shapes/masks')))

def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())

class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Sequential(block(1, 8), block(8, 8))
        self.pool = nn.MaxPool2d(2)
        self.mid = nn.Sequential(block(8, 16), block(16, 16))
        self.up = nn.Upsample(scale_factor=2)
        self.head = nn.Conv2d(24, 1, 1)

    def forward(self, x):
        d = self.down(x)
        return self.head(torch.cat([self.up(self.mid(self.pool(d))), d], dim=1))[:, 0]

net = Tiny()
optimizer = torch.optim.Adam(net.parameters(), 3e-3)
for epoch in range(5):
    for i in range(0, 600, 30):
        optimizer.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(net(x[i:i + 30]), y[i:i + 30]).backward()
        optimizer.step()
"""


@pytest.mark.slow
@needs_sandbox
def test_a_unet_is_scored_on_every_pixel_of_fresh_hidden_images(tmp_path, project_copy):
    notebook = write_notebook(tmp_path / "unet.ipynb", TINY_UNET)
    report = grade(assignments.load("unet_segmentation", project_copy), notebook,
                   tmp_path / "out", mode=Mode.grade, backend=Bubblewrap())
    assert report.task == "segmentation" and "500 images" in report.evaluation_set
    (model,) = report.models
    assert model.evaluated_by == "clean room" and model.verified
    assert model.kind == "encoder_decoder"
    assert "threshold 0" in (model.input_format or "")  # one logit a pixel, channels first
    assert set(model.metrics) == {"object_iou", "object_dice", "iou", "dice", "accuracy"}
    assert 0.5 < model.metrics["object_iou"] < 1
    points = {check.id: check.points for check in report.checks}
    assert points["executes"] == 1 and points["unet_trained"] == 3
    assert "public copy" in " ".join(report.notes)  # /content/textured_shapes.npz
    executed = (tmp_path / "out" / "executed.ipynb").read_text()
    assert "['images', 'masks'] 2000" in executed
    (grid,) = report.grids
    assert grid.key == "segmentation" and grid.model == "#0 net"
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(grid.png))))
    assert image.shape[0] < image.shape[1]  # three rows of eight images
    assert "grid-segmentation" in (tmp_path / "out" / "report.html").read_text()
