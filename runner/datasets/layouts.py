"""Write a split in the on-disk layouts that framework loaders read without network.

The file names are the official ones (``t10k-*`` or ``test_batch`` holds
whatever ``test_*`` is, e.g. the public held-out part), so a student's
unmodified ``keras.datasets.<x>.load_data()`` or ``torchvision.datasets.<X>(root,
download=True)`` finds them (folders from the dataset file's ``loaders``) and
never downloads the real test set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from runner.datasets._batches import encode_batch, encode_meta
from runner.datasets._idx import read_idx, write_idx
from runner.datasets.registry import DatasetSpec, Format, get_spec
from runner.datasets.splits import ImageSplits, read_batch_part


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


def batches_dir(dest: Path, dataset: str | DatasetSpec) -> Path:
    """Where ``torchvision.datasets.<X>(root=dest)`` reads CIFAR batches: ``dest/<folder>``."""
    spec = get_spec(dataset)
    assert spec.archive is not None
    return dest / spec.archive.folder


def batch_files(split: ImageSplits, spec: DatasetSpec) -> dict[str, bytes]:
    """File name -> bytes of every batch and the meta file for ``split``, in CIFAR's format.

    Each part is cut into as many batches as the dataset has files for it, in order.
    """
    batches = spec.batches
    assert batches is not None
    files: dict[str, bytes] = {}
    for roles, images, labels, part in ((batches.train, split.train_x, split.train_y, "training"),
                                        (batches.test, split.test_x, split.test_y, "testing")):
        cuts = np.array_split(np.arange(len(images)), len(roles))
        for number, (role, rows) in enumerate(zip(roles, cuts, strict=True), start=1):
            files[spec.files[role].name] = encode_batch(
                images[rows], labels[rows], title=f"{part} batch {number} of {len(roles)}",
                label_key=batches.label_key,
                names=[f"{spec.name}_{part}_{i:05d}.png" for i in rows])
    files[spec.files[batches.meta].name] = encode_meta(
        spec.class_names, key=batches.names_key, per_batch=max(len(c) for c in cuts),
        values=spec.sample_size)
    return files


def write_batches(split: ImageSplits, dest: Path, *, dataset: str | DatasetSpec) -> Path:
    """Write CIFAR batch files where torchvision finds them with ``root=dest``; the folder."""
    spec = get_spec(dataset)
    folder = batches_dir(dest, spec)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in batch_files(split, spec).items():
        (folder / name).write_bytes(data)
    return folder


def read_public_part(dest: Path, dataset: str | DatasetSpec, part: str
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of the ``train`` or ``test`` part written under ``dest``, in the
    dataset's own layout; only that part's files are read."""
    spec = get_spec(dataset)
    if spec.format is Format.cifar_batches:
        folder = batches_dir(dest, spec)
        return read_batch_part(spec, {role: folder / f.name for role, f in spec.files.items()},
                               part)
    raw = torchvision_raw_dir(dest, spec)
    return (read_idx(raw / spec.files[f"{part}_images"].name),
            read_idx(raw / spec.files[f"{part}_labels"].name))


def read_public(dest: Path, dataset: str | DatasetSpec) -> ImageSplits:
    """Read back the split written under ``dest`` by the dataset's own layout."""
    return ImageSplits(*read_public_part(dest, dataset, "train"),
                       *read_public_part(dest, dataset, "test"))
