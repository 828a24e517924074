"""Datasets the grader needs: found locally or downloaded, verified, and re-packaged.

A dataset is declared in ``datasets/<name>.yaml`` (:func:`registry`) with its
task, sample shape, files and the sha256 of each file's decompressed content.
:func:`locate` finds a verified copy (user dir, distribution package, user
cache, download); :func:`load_official` reads it;
:func:`public_split` cuts the student-visible split from the official training
set only; :func:`public_cache` writes that split once in the keras and
torchvision layouts. The official test set stays hidden on the host.
"""

from runner.datasets.cache import CACHE_ENV, cache_root, dataset_cache_dir
from runner.datasets.errors import (
    ChecksumMismatch,
    DatasetError,
    DatasetNotFound,
    MalformedDataFile,
    UnknownDataset,
)
from runner.datasets.layouts import (
    batches_dir,
    keras_dir,
    torchvision_raw_dir,
    write_keras_cache,
    write_torchvision_raw,
)
from runner.datasets.locate import DATA_DIR_ENV, OFFLINE_ENV, dataset_files, locate
from runner.datasets.public import PublicManifest, public_cache
from runner.datasets.registry import ROLES, DatasetSpec, FileSpec, get_spec, registry
from runner.datasets.splits import (
    ImageSplits,
    load_official,
    public_split,
    split_indices,
)

__all__ = [
    "CACHE_ENV",
    "DATA_DIR_ENV",
    "OFFLINE_ENV",
    "ROLES",
    "ChecksumMismatch",
    "DatasetError",
    "DatasetNotFound",
    "DatasetSpec",
    "FileSpec",
    "ImageSplits",
    "MalformedDataFile",
    "PublicManifest",
    "UnknownDataset",
    "batches_dir",
    "cache_root",
    "dataset_cache_dir",
    "dataset_files",
    "get_spec",
    "keras_dir",
    "load_official",
    "locate",
    "public_cache",
    "public_split",
    "registry",
    "split_indices",
    "torchvision_raw_dir",
    "write_keras_cache",
    "write_torchvision_raw",
]
