"""The dataset as arrays: the official split, and the public split derived from it.

Trust model: the official test set is the *hidden* one and never enters the
sandbox as labelled data. Students get a public split cut from the official
training set alone: a public training part and a public held-out part that
plays "test" for their loaders.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runner.datasets._batches import read_batch
from runner.datasets._idx import read_idx
from runner.datasets.errors import MalformedDataFile
from runner.datasets.locate import dataset_files, locate
from runner.datasets.registry import DatasetSpec, Format, get_spec
from runner.i18n.message import msg

SPLIT_ALGORITHM = "stratified-sha256-rank-v1"
"""Names the procedure in :func:`split_indices`; part of every cache key built on it."""


@dataclass(frozen=True)
class ImageSplits:
    """Images ``(N, H, W)`` or ``(N, H, W, C)`` uint8 and labels ``(N,)`` uint8.

    Arrays loaded from files are read-only; copy before modifying.
    """

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    def __post_init__(self) -> None:
        for part in ("train", "test"):
            x, y = getattr(self, f"{part}_x"), getattr(self, f"{part}_y")
            if x.ndim not in (3, 4) or x.dtype != np.uint8:
                raise ValueError(f"{part}_x must be uint8 (N, H, W[, C]), got {x.dtype} "
                                 f"{x.shape}")
            if y.ndim != 1 or y.dtype != np.uint8:
                raise ValueError(f"{part}_y must be uint8 (N,), got {y.dtype} {y.shape}")
            if len(x) != len(y):
                raise ValueError(f"{part}: {len(x)} images but {len(y)} labels")


def load_official(
    dataset: str | DatasetSpec,
    data_dir: Path | None = None,
    *,
    allow_download: bool = True,
) -> ImageSplits:
    """The official split, from verified files (see :func:`locate` for the search).

    ``test_*`` is the hidden test set: never hand its labels to the sandbox.
    """
    spec = get_spec(dataset)
    paths = dataset_files(locate(spec, data_dir, allow_download=allow_download), spec)
    if spec.format is Format.cifar_batches:
        return read_batches(spec, paths)
    arrays = {role: read_idx(path) for role, path in paths.items()}
    for role, array in arrays.items():
        want_ndim = 3 if role.endswith("images") else 1
        if array.ndim != want_ndim or array.dtype != np.uint8:
            raise MalformedDataFile(paths[role], msg("error.idx.array", ndim=want_ndim,
                                                      shape=str(array.shape)))
    for role in ("train_images", "test_images"):
        if arrays[role].shape[1:] != spec.image_shape:
            raise MalformedDataFile(paths[role], msg("error.idx.image_shape",
                                                      shape=str(list(spec.image_shape))))
    return ImageSplits(
        arrays["train_images"], arrays["train_labels"], arrays["test_images"], arrays["test_labels"]
    )


def read_batch_part(spec: DatasetSpec, paths: dict[str, Path], part: str
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of the ``train`` or ``test`` batches of a ``cifar_batches`` dataset."""
    batches = spec.batches
    assert batches is not None and part in ("train", "test")
    shape = spec.sample.shape
    assert len(shape) == 3
    roles = batches.train if part == "train" else batches.test
    read = [read_batch(paths[role].read_bytes(), paths[role], shape=shape,
                       label_key=batches.label_key) for role in roles]
    images, labels = np.concatenate([r[0] for r in read]), np.concatenate([r[1] for r in read])
    if labels.size and int(labels.max()) >= spec.num_classes:
        raise MalformedDataFile(paths[roles[0]], msg("error.data_file.class_id",
                                                     label=int(labels.max()),
                                                     n=spec.num_classes))
    return images, labels


def read_batches(spec: DatasetSpec, paths: dict[str, Path]) -> ImageSplits:
    """The training and test batches of a ``cifar_batches`` dataset, each checked."""
    return ImageSplits(*read_batch_part(spec, paths, "train"),
                       *read_batch_part(spec, paths, "test"))


def _quotas(counts: np.ndarray, total: int) -> np.ndarray:
    """Per-class held-out sizes proportional to ``counts``, summing to ``total``.

    Largest remainder, ties to the lower class index.
    """
    exact = counts * total / counts.sum()
    quotas = np.floor(exact).astype(np.int64)
    short = total - int(quotas.sum())
    order = np.lexsort((np.arange(len(counts)), -(exact - quotas)))
    quotas[order[:short]] += 1
    return quotas


def split_indices(
    labels: np.ndarray, heldout_size: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, heldout)``, each sorted ascending, disjoint, covering all rows.

    Stratified: every class contributes to the held-out part in proportion to its
    frequency (1000 per class for Fashion-MNIST). Which rows of a class are held
    out is decided by ranking rows on ``sha256(f"{seed}:{index}")`` — independent
    of NumPy's RNG streams, so the split is the same on every machine and version.
    """
    n = len(labels)
    if not 0 < heldout_size < n:
        raise ValueError(f"heldout_size must be between 1 and {n - 1}, got {heldout_size}")
    keys = np.array(
        [
            int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "big")
            for i in range(n)
        ],
        dtype=np.uint64,
    )
    classes, per_class = np.unique(labels, return_counts=True)
    heldout = []
    for cls, quota in zip(classes, _quotas(per_class, heldout_size), strict=True):
        rows = np.flatnonzero(labels == cls)
        heldout.append(rows[np.argsort(keys[rows], kind="stable")[:quota]])
    heldout_idx = np.sort(np.concatenate(heldout))
    mask = np.ones(n, dtype=bool)
    mask[heldout_idx] = False
    return np.flatnonzero(mask), heldout_idx


def public_split(official: ImageSplits, *, heldout_size: int, seed: int) -> ImageSplits:
    """Cut the official *training* set into public train and public held-out parts.

    ``test_*`` of the result is the held-out part (e.g. 50000/10000 for
    Fashion-MNIST); rows keep their original relative order. The official test
    set is not used at all.
    """
    train_idx, heldout_idx = split_indices(official.train_y, heldout_size, seed)
    return ImageSplits(
        official.train_x[train_idx],
        official.train_y[train_idx],
        official.train_x[heldout_idx],
        official.train_y[heldout_idx],
    )
