"""The public training sample of a generated dataset, as the files notebooks read.

A dataset drawn by one of nngrade's own generators has no files anywhere, and a
notebook cannot call the generator: the dataset file's ``loaders.drawn`` asks for a
sample of it next to the notebook, the same for every student (seed ``split.seed + 2``;
calibration and check-mode evaluation use ``+ 0`` and ``+ 1``). It is written once per
user into the cache and copied into each job, as arrays (``x_train``, ``y_train`` in an
``.npz``) and as the folders of 8-bit PNG images and masks (0 and 255) that notebooks
written for other segmentation data read with PIL or OpenCV.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from runner.datasets.cache import build_once, cache_root
from runner.datasets.generated import draw
from runner.datasets.registry import DatasetSpec, Task

TRAINING_SEED_OFFSET = 2
FILES_VERSION = 1  # raise when the files written change: older folders are then rebuilt
DONE = ".complete"


def drawn_training(dataset: DatasetSpec) -> tuple[np.ndarray, np.ndarray]:
    """The public training sample ``(inputs, targets)`` named by ``loaders.drawn``."""
    if dataset.loaders.drawn is None:
        raise ValueError(f"dataset {dataset.name!r} declares no loaders.drawn")
    return draw(dataset, dataset.loaders.drawn.count, dataset.split.seed + TRAINING_SEED_OFFSET)


def drawn_files(dataset: DatasetSpec) -> Path:
    """Folder in the user's cache holding the sample's ``.npz`` and image folders,
    built on first use (atomically, so concurrent graders share one)."""
    def build(folder: Path) -> None:
        write_drawn(dataset, folder)
        (folder / DONE).write_text("")

    return build_once(cache_root() / "drawn" / f"{dataset.name}-{_key(dataset)}", DONE, build)


def copy_drawn(dataset: DatasetSpec, dest: Path) -> list[Path]:
    """Copy the sample's files from the cache into ``dest`` (copies, never links: a
    notebook writing to one must not change the cache); the paths written at its top."""
    source = drawn_files(dataset)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in sorted(source.iterdir()):
        if entry.name == DONE:
            continue
        if entry.is_dir():
            shutil.copytree(entry, dest / entry.name, dirs_exist_ok=True)
        else:
            shutil.copyfile(entry, dest / entry.name)
        written.append(dest / entry.name)
    return written


def write_drawn(dataset: DatasetSpec, dest: Path) -> list[Path]:
    """Write the sample's files into ``dest``; the paths written at its top."""
    drawn = dataset.loaders.drawn
    assert drawn is not None
    inputs, targets = drawn_training(dataset)
    written = []
    dest.mkdir(parents=True, exist_ok=True)
    if drawn.npz:
        np.savez_compressed(dest / drawn.npz, x_train=inputs, y_train=targets)
        written.append(dest / drawn.npz)
    if drawn.folder:
        folder = dest / drawn.folder
        _write_images(folder / "images", _eight_bit(inputs, dataset))
        if dataset.task is Task.segmentation:
            _write_images(folder / "masks", (targets > 0).astype(np.uint8) * 255)
        written.append(folder)
    return written


def _eight_bit(inputs: np.ndarray, dataset: DatasetSpec) -> np.ndarray:
    """Samples as 8-bit pixels: their declared range mapped onto 0..255."""
    low, high = dataset.sample.range or (0.0, 255.0)
    scaled = (inputs.astype(np.float64) - low) * (255.0 / ((high - low) or 1.0))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _write_images(folder: Path, pixels: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    digits = max(5, len(str(len(pixels))))
    for i, image in enumerate(pixels):
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[..., 0]
        Image.fromarray(image).save(folder / f"{i:0{digits}d}.png", optimize=False)


def _key(dataset: DatasetSpec) -> str:
    """Everything that decides the files: the dataset's declaration and this writer."""
    material = f"{FILES_VERSION}\n{dataset.model_dump_json()}".encode()
    return hashlib.sha256(material).hexdigest()[:16]
