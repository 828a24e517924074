"""A generation task's notebook sandbox holds public images only: the hidden test images a
VAE rebuilds stay on the host until the clean room, so a notebook that trains on
everything it can read (the Keras example trains on train and test together) cannot
train on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from runner import assignments
from runner.provision import provision
from runner.report.model import Mode
from runner.sandbox.job import JobDir
from runner.spec import CollectModels

needs_data = pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(),
    reason="Fashion-MNIST files not installed (apt-get install dataset-fashion-mnist)")


def _contains(root: Path, needle: bytes) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and needle in path.read_bytes()]


@needs_data
def test_the_hidden_images_never_enter_the_notebooks_sandbox(tmp_path):
    spec = assignments.load("vae_fashion_mnist").spec
    job = JobDir.create(tmp_path / "job")
    probe, truth = provision(spec, job, Mode.grade)
    generation = truth.generation
    assert generation is not None and truth.task == "generation"
    assert len(generation.hidden) == 2000 and generation.samples == 2000
    assert probe["models"]["task"] == "generation"
    assert "eval_inputs" not in probe["models"]
    for image in generation.hidden[:3]:  # not as raw bytes in any file the job holds
        assert _contains(job.root, image.tobytes()) == []
    public = np.load(job.data / "calibration_inputs.npy")
    assert len(public) == 200 and _contains(job.root, public[0].tobytes())  # public: there


@needs_data
def test_each_grading_draws_its_own_noise_and_a_check_always_the_same(tmp_path):
    spec = assignments.load("vae_fashion_mnist").spec
    seeds = [provision(spec, JobDir.create(tmp_path / f"g{i}"), Mode.grade)[1].generation.seed
             for i in range(2)]
    assert seeds[0] != seeds[1]
    job = JobDir.create(tmp_path / "c")
    checked = provision(spec, job, Mode.check)[1].generation
    assert checked.seed == 0  # a student's check: the public held-out images, fixed noise
    assert np.array_equal(checked.hidden[:200], np.load(job.data / "calibration_inputs.npy"))


def test_generation_without_the_clean_room_is_refused():
    with pytest.raises(ValidationError, match="generation is scored only in the clean room"):
        CollectModels(dataset="fashion_mnist", task="generation", clean_room=False)
