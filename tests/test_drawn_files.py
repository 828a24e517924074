"""A generated dataset's public sample reaches the notebook as the files students read:
the same images for everyone, arrays and PNG folders that agree, and masks that never
include the hidden ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from runner import assignments
from runner.datasets.registry import DatasetFileError, load_dataset_file
from runner.provision import provision
from runner.report.model import Mode
from runner.sandbox.job import JobDir


def test_the_notebook_gets_the_public_sample_as_arrays_and_png_folders(tmp_path: Path):
    job = JobDir.create(tmp_path / "job")
    probe, truth = provision(assignments.load("unet_segmentation").spec, job, Mode.grade)
    arrays = np.load(job.work / "textured_shapes.npz")
    x, y = arrays["x_train"], arrays["y_train"]
    assert x.shape == (2000, 64, 64, 1) and x.dtype == np.float32 and y.shape == (2000, 64, 64)
    images = sorted((job.work / "textured_shapes" / "images").iterdir())
    masks = sorted((job.work / "textured_shapes" / "masks").iterdir())
    assert len(images) == len(masks) == 2000 and images[7].name == masks[7].name == "00007.png"
    png = np.asarray(Image.open(images[7]))
    assert png.dtype == np.uint8 and np.abs(png / 255 - x[7, ..., 0]).max() <= 0.5 / 255 + 1e-6
    assert np.array_equal(np.asarray(Image.open(masks[7])), y[7] * 255)
    assert not list(job.work.glob(".*"))  # no cache bookkeeping in the notebook's folder
    config = probe["models"]
    assert config["pixels"] == [64, 64] and truth.pixels == (64, 64)
    assert probe["public_files"] == {"textured_shapes.npz": job.seen(job.work /
                                                                     "textured_shapes.npz")}
    calibration = np.load(job.data / "calibration_labels.npy")
    assert calibration.shape == (200, 64, 64)  # masks of the public calibration images
    assert truth.labels.shape == (500, 64, 64)
    assert truth.shown_inputs is not None and len(truth.shown_inputs) == 8
    hidden = np.load(job.data / "eval_inputs.npy")
    assert not any(np.array_equal(hidden[0], image) for image in x)  # drawn apart


def test_drawn_files_belong_to_generated_datasets(tmp_path: Path):
    fashion = Path(__file__).resolve().parents[1] / "datasets" / "fashion_mnist.yaml"
    text = fashion.read_text().replace("name: fashion_mnist", "name: digits")
    assert text.rstrip().splitlines()[-1].startswith("    - ")  # loaders: are last
    path = tmp_path / "digits.yaml"
    path.write_text(text.rstrip() + "\n  drawn: {count: 10, npz: digits.npz}\n")
    with pytest.raises(DatasetFileError, match=r"loaders\.drawn belongs to format generator"):
        load_dataset_file(path)


def test_students_get_the_same_files_from_the_command_line(tmp_path: Path):
    """`nngrade dataset public` copies what grading puts next to a notebook; a dataset
    that is not generated is refused with what to do instead."""
    run = [sys.executable, "-m", "runner", "dataset", "public"]
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run([*run, "textured_shapes", "--out", str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        "textured_shapes", "textured_shapes.npz"]
    job = JobDir.create(tmp_path / "job")
    provision(assignments.load("unet_segmentation").spec, job, Mode.check)
    for name in ("textured_shapes.npz", "textured_shapes/masks/01999.png"):
        assert (tmp_path / "data" / name).read_bytes() == (job.work / name).read_bytes()
    refused = subprocess.run([*run, "moons", "--out", str(tmp_path / "x")],
                             capture_output=True, text=True, timeout=300, env=env)
    assert refused.returncode == 2 and "not drawn by a generator of nngrade's own" in \
        refused.stderr
