"""Datasets declared as files: validation with file and line, generators, evaluation sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runner.datasets import get_spec, registry
from runner.datasets.evaluation import evaluation_sets
from runner.datasets.generated import draw
from runner.datasets.registry import DatasetFileError, load_dataset_file
from runner.i18n.render import render
from runner.paths import ProjectPaths

ROOT = Path(__file__).resolve().parents[1]


def test_every_dataset_file_in_the_project_is_valid_and_named_after_its_file():
    found = registry()
    assert {"fashion_mnist", "moons"} <= set(found)
    for path in (ROOT / "datasets").glob("*.yaml"):
        assert load_dataset_file(path).name == path.stem


def test_fashion_mnist_is_declared_as_data():
    spec = get_spec("fashion_mnist")
    assert spec.task == "classification" and spec.format == "idx"
    assert spec.num_classes == 10 and spec.image_shape == (28, 28)
    assert spec.loaders.keras == "fashion-mnist" and spec.loaders.torchvision == "FashionMNIST"
    assert spec.split.heldout == 10_000


def test_a_bad_dataset_file_names_the_file_the_field_and_the_line(tmp_path: Path):
    text = (ROOT / "datasets" / "moons.yaml").read_text().replace(
        "function: sklearn.datasets.make_moons", "function: os.system")
    path = tmp_path / "moons.yaml"
    path.write_text(text)
    with pytest.raises(DatasetFileError) as raised:
        load_dataset_file(path)
    message = raised.value.message
    line = text.splitlines().index("  function: os.system") + 1
    assert str(path) in message and "generator.function" in message
    assert f"(line {line})" in message


def test_a_course_repository_adds_datasets_next_to_the_built_in_ones(tmp_path: Path):
    (tmp_path / "datasets").mkdir()
    text = (ROOT / "datasets" / "moons.yaml").read_text()
    (tmp_path / "datasets" / "wide_moons.yaml").write_text(
        text.replace("name: moons", "name: wide_moons").replace("noise: 0.2", "noise: 0.3"))
    found = registry(ProjectPaths(tmp_path))
    assert found["wide_moons"].generator.params == {"noise": 0.3}
    assert "fashion_mnist" in found


def test_a_generator_draws_reproducible_points_of_the_declared_shape():
    spec = get_spec("moons")
    x1, y1 = draw(spec, 50, 7)
    x2, y2 = draw(spec, 50, 7)
    assert x1.shape == (50, 2) and x1.dtype == np.float32 and y1.dtype == np.int64
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert set(np.unique(y1)) == {0, 1}


def test_hidden_points_are_fresh_each_run_and_public_ones_are_fixed():
    spec = get_spec("moons")
    grade = [evaluation_sets(spec, hidden=True, rng=np.random.default_rng(seed),
                             calibration_size=100) for seed in (1, 2)]
    check = [evaluation_sets(spec, hidden=False, rng=np.random.default_rng(seed),
                             calibration_size=100) for seed in (1, 2)]
    assert not np.array_equal(grade[0].eval_x, grade[1].eval_x)
    assert np.array_equal(check[0].eval_x, check[1].eval_x)
    # The calibration sample is public and the same for everyone; it is not the evaluation set.
    assert np.array_equal(grade[0].calibration_x, check[1].calibration_x)
    assert not np.array_equal(check[0].calibration_x[:100], check[0].eval_x[:100])
    assert len(grade[0].eval_x) == spec.split.heldout
    assert render(grade[0].description, "en").startswith("hidden fresh sample (2000 points")
    assert render(check[0].description, "en").startswith("public sample")


def test_only_loaders_of_other_datasets_are_named_and_with_their_titles():
    from runner.datasets.loader_calls import wrong_dataset_notes
    from runner.i18n.render import render

    notes = wrong_dataset_notes(get_spec("fashion_mnist"), [
        "keras:fashion_mnist", "torchvision:FashionMNIST", "torchvision:CIFAR10",
        "torchvision:ImageFolder", "keras:mnist"])
    assert [render(note, "en").split(", but")[0] for note in notes] == [
        "the notebook loads CIFAR-10 (torchvision.datasets.CIFAR10)",
        "the notebook loads keras.datasets.mnist"]
    assert wrong_dataset_notes(get_spec("cifar10"), ["keras:cifar10", "torchvision:CIFAR10"]) == []
