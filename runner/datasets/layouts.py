"""Write a split in the on-disk layouts that framework loaders read without network.

The file names are the official ones (``t10k-*`` holds whatever ``test_*`` is,
e.g. the public held-out part), so a student's unmodified
``keras.datasets.<x>.load_data()`` or ``torchvision.datasets.<X>(root,
download=True)`` finds them (folders from the dataset file's ``loaders``) and
never downloads the real test set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from runner.datasets._idx import write_idx
from runner.datasets.registry import DatasetSpec, get_spec
from runner.datasets.splits import ImageSplits


def _arrays(split: ImageSplits) -> dict[str, np.ndarray]:
    return {
        "train_images": split.train_x,
        "train_labels": split.train_y,
        "test_images": split.test_x,
        "test_labels": split.test_y,
    }


def _write(split: ImageSplits, folder: Path, spec: DatasetSpec, *, compress: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for role, array in _arrays(split).items():
        file = spec.files[role]
        write_idx(array, folder / (file.gz_name if compress else file.name), compress=compress)
    return folder


def keras_dir(dest: Path, dataset: str | DatasetSpec) -> Path:
    """Where keras looks when ``HOME=dest``: ``dest/.keras/datasets/<keras_subdir>``."""
    return dest / ".keras" / "datasets" / get_spec(dataset).keras_subdir


def torchvision_raw_dir(dest: Path, dataset: str | DatasetSpec) -> Path:
    """Where torchvision looks for ``root=dest``: ``dest/<ClassName>/raw``."""
    return dest / get_spec(dataset).torchvision_folder / "raw"


def write_keras_cache(
    split: ImageSplits, dest: Path, *, dataset: str | DatasetSpec
) -> Path:
    """Write gzipped IDX files where ``keras.datasets.<x>.load_data()`` finds them.

    ``dest`` plays the role of ``HOME`` (with ``KERAS_HOME`` unset) or ``dest/.keras``
    of ``KERAS_HOME``. Keras falls back to ``/tmp/.keras`` when that folder is not
    writable, so the sandbox must mount it writable (or copy it). Returns the folder.
    """
    return _write(split, keras_dir(dest, dataset), get_spec(dataset), compress=True)


def write_torchvision_raw(
    split: ImageSplits, dest: Path, *, dataset: str | DatasetSpec
) -> Path:
    """Write uncompressed IDX files where ``torchvision.datasets.<X>(root=dest)`` reads them.

    torchvision only checks that the raw files exist, so ``download=True`` is then a
    no-op; read-only is fine. Returns the folder.
    """
    return _write(split, torchvision_raw_dir(dest, dataset), get_spec(dataset), compress=False)
