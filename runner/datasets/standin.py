"""A generated stand-in for a dataset that cannot be had here, in the dataset's own format.

CIFAR-10 is not reachable from machines without internet, yet its loaders, adapters
and assignment must be tested. A stand-in is written exactly as the real files are
(the same archive, folder, file names and pickle format) with images that are
learnable but made up: each class is a striped blob of its own orientation,
anywhere on a noisy background of a random colour. Beside
it goes a dataset file that declares the stand-in under the real dataset's name,
with the stand-in's own checksums; put its folder in ``$NNGRADE_DATASETS`` and
every command grades against it. The real dataset's file and cache are untouched.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import yaml

from runner.datasets._batches import write_archive
from runner.datasets.errors import DatasetError
from runner.datasets.layouts import batch_files
from runner.datasets.registry import DatasetSpec, FileSpec, Format, Split, get_spec
from runner.datasets.splits import ImageSplits
from runner.datasets.tfds_standin import write_tfds_standin
from runner.datasets.verify import file_sha256
from runner.i18n.message import msg

STANDIN_SEED = 20091


def images(count: int, shape: tuple[int, int, int], num_classes: int,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` images ``(H, W, C)`` uint8 with balanced labels, in random order.

    The class is the orientation and the fineness of the stripes of a blob (a Gabor
    patch) placed anywhere on a
    noisy background of a random colour: a convolutional network finds it wherever it
    lies, a network that sees pixel positions has a much harder time.
    """
    height, width, channels = shape
    labels = rng.permutation(np.arange(count) % num_classes).astype(np.uint8)
    orientations = (num_classes + 1) // 2
    angle = np.pi * (labels % orientations) / orientations + rng.normal(0, np.pi / 60, count)
    coarse = labels < orientations
    frequency = np.where(coarse, 0.12, 0.28) * rng.uniform(0.9, 1.1, count)  # cycles/pixel
    phase = rng.uniform(0, 2 * np.pi, count)
    sigma = rng.uniform(4.0, 6.0, count)
    centre_y = rng.uniform(0.25, 0.75, count) * height
    centre_x = rng.uniform(0.25, 0.75, count) * width
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    dy, dx = rows[None] - centre_y[:, None, None], cols[None] - centre_x[:, None, None]
    along = np.cos(angle)[:, None, None] * dx + np.sin(angle)[:, None, None] * dy
    envelope = np.exp(-(dx**2 + dy**2) / (2 * sigma[:, None, None] ** 2))
    patch = envelope * np.cos(2 * np.pi * frequency[:, None, None] * along + phase[:, None, None])
    background = rng.uniform(60, 190, (count, 1, 1, channels))
    tint = rng.uniform(0.4, 1.0, (count, 1, 1, channels))
    contrast = rng.uniform(70, 110, count)[:, None, None, None]
    values = background + contrast * tint * patch[..., None]
    values += rng.normal(0, 24, values.shape)
    return np.clip(np.rint(values), 0, 255).astype(np.uint8), labels


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def write_standin(dataset: str | DatasetSpec, dest: Path, *, train: int, test: int,
                  heldout: int) -> DatasetSpec:
    """Write a stand-in of ``train`` + ``test`` images and its dataset file into ``dest``.

    ``heldout`` is the size of the public held-out part cut from the stand-in's training
    images (the real dataset's is larger than a small stand-in allows).
    """
    spec = get_spec(dataset)
    if spec.format is Format.tfds_prepared:
        return _tfds_standin(spec, dest, train=train, test=test)
    if spec.format is not Format.cifar_batches or spec.archive is None:
        raise DatasetError(msg("error.standin.format", name=spec.name,
                               format=spec.format.value))
    if not 0 < heldout < train:
        raise DatasetError(msg("error.standin.heldout", heldout=heldout, train=train))
    shape = spec.sample.shape
    assert len(shape) == 3
    rng = np.random.default_rng(STANDIN_SEED)
    split = ImageSplits(*images(train, shape, spec.num_classes, rng),
                        *images(test, shape, spec.num_classes, rng))
    members = batch_files(split, spec)
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / spec.archive.name
    write_archive(members, spec.archive.folder, archive)
    by_name = {f.name: role for role, f in spec.files.items()}
    standin = spec.model_copy(update={
        "title": f"{spec.title} (generated stand-in)",
        "archive": spec.archive.model_copy(update={
            "sha256": file_sha256(archive)}),
        "files": {by_name[name]: FileSpec(name=name, md5=_md5(data))
                  for name, data in members.items()},
        "base_urls": [], "system_dirs": [dest.resolve()], "system_package": None,
        "split": Split(method=spec.split.method, heldout=heldout, seed=spec.split.seed)})
    _write_dataset_file(standin, dest, of=spec.title, train=train, test=test)
    return standin


def _tfds_standin(spec: DatasetSpec, dest: Path, *, train: int, test: int) -> DatasetSpec:
    """A tfds-prepared stand-in: ``train`` and ``test`` records, ``dest`` as tfds'
    ``data_dir``; the first split declared is the training one, the last the test one."""
    assert spec.tfds is not None
    names = list(spec.tfds.splits)
    sizes = {name: train for name in names[:-1]} | {names[-1]: test}
    write_tfds_standin(spec, dest, sizes, STANDIN_SEED)
    standin = spec.model_copy(update={
        "title": f"{spec.title} (generated stand-in)",
        "tfds": spec.tfds.model_copy(update={"splits": sizes}),
        "system_dirs": [dest.resolve()]})
    _write_dataset_file(standin, dest, of=spec.title, train=train, test=test)
    return standin


def _write_dataset_file(standin: DatasetSpec, dest: Path, *, of: str, train: int,
                        test: int) -> None:
    """The stand-in's dataset file, under the real name, next to its data."""
    header = (f"# A generated stand-in for {of}, in its real format: {train} training and "
              f"{test} test images.\n# Made by "
              f"`nngrade dataset standin {standin.name}`; grade against it with "
              f"NNGRADE_DATASETS={dest.resolve()}\n")
    (dest / f"{standin.name}.yaml").write_text(
        header + yaml.safe_dump(standin.model_dump(mode="json", exclude_none=True),
                                sort_keys=False, allow_unicode=True), encoding="utf-8")
