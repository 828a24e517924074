"""The generated segmentation dataset is what its file promises: the same images for the
same seed, objects a brightness threshold cannot find and a small U-Net learns to."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.segmentation_baselines import best_threshold
from runner.datasets import get_spec
from runner.datasets.generated import draw
from runner.metrics import object_iou

SPEC = get_spec("textured_shapes")
ROOT = Path(__file__).resolve().parents[1]


def test_a_seed_draws_the_same_images_and_another_seed_others():
    x, y = draw(SPEC, 8, 5)
    again_x, again_y = draw(SPEC, 8, 5)
    other_x, _ = draw(SPEC, 8, 6)
    assert x.shape == (8, 64, 64, 1) and y.shape == (8, 64, 64) and y.dtype == np.int64
    assert np.array_equal(x, again_x) and np.array_equal(y, again_y)
    assert not np.array_equal(x, other_x)
    assert x.min() >= 0 and x.max() <= 1 and set(np.unique(y)) == {0, 1}


def test_brightness_says_nothing_about_where_the_objects_are():
    x, y = draw(SPEC, 200, 1)
    assert 0.1 < y.mean() < 0.4
    threshold = object_iou(best_threshold(x, y), y)
    assert threshold < y.mean() + 0.05  # no better than calling every pixel an object


TRAIN = """
from benchmarks.segmentation_baselines import train_unet
from runner.metrics import object_iou
from runner.datasets import get_spec
from runner.datasets.generated import draw
spec = get_spec("textured_shapes")
x, y = draw(spec, 1500, 0)
hidden_x, hidden_y = draw(spec, 300, 1)
*_, last = train_unet(x, y, hidden_x, epochs=6)
print(object_iou(last, hidden_y))
"""


@pytest.mark.slow
def test_a_small_unet_learns_the_texture():
    # In a process of its own: torch's training stack crashes one that loaded TensorFlow.
    done = subprocess.run([sys.executable, "-c", TRAIN], capture_output=True, text=True,
                          cwd=ROOT, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.split()[-1]) > 0.8
