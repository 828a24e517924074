"""The public split, built once per user and shared by every grading run.

The folder is keyed by everything that determines its content (source
checksums, split algorithm, seed, size, layout version), so a change to any of
them builds a new one rather than reusing a stale one. Builders write into a
temporary folder and rename it into place: the rename is atomic, so a reader
never sees a half-built folder, and concurrent builders simply race to it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from runner.datasets.cache import build_once, cache_root
from runner.datasets.layouts import write_batches, write_keras_cache, write_torchvision_raw
from runner.datasets.registry import DatasetSpec, Format, get_spec
from runner.datasets.splits import (
    SPLIT_ALGORITHM,
    ImageSplits,
    load_official,
    public_split,
    split_indices,
)

LAYOUT_VERSION = 2  # raise when a layout's files change: old folders are then not reused
MANIFEST_FILE = "manifest.json"


class PublicManifest(BaseModel):
    """What a public folder holds and how it was made (``manifest.json``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str
    key: str
    source_digests: dict[str, str]
    split_algorithm: str
    seed: int
    heldout_size: int
    train_size: int
    layout_version: int
    heldout_indices_sha256: str
    layouts: dict[str, str]


def public_key(spec: DatasetSpec, *, heldout_size: int, seed: int) -> str:
    """Content key of a public folder; computable without reading the data."""
    material = {
        "dataset": spec.name,
        "sources": {role: f.digest[1] for role, f in sorted(spec.files.items())},
        "split": SPLIT_ALGORITHM,
        "seed": seed,
        "heldout": heldout_size,
        "layout": LAYOUT_VERSION,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


def _build(
    folder: Path,
    spec: DatasetSpec,
    official: ImageSplits,
    *,
    heldout_size: int,
    seed: int,
    key: str,
) -> None:
    split = public_split(official, heldout_size=heldout_size, seed=seed)
    if spec.format is Format.cifar_batches:  # keras' loader is served from the same files
        layouts = {"batches": write_batches(split, folder, dataset=spec)}
    else:
        layouts = {"keras": write_keras_cache(split, folder, dataset=spec),
                   "torchvision": write_torchvision_raw(split, folder, dataset=spec)}
    _, heldout_idx = split_indices(official.train_y, heldout_size, seed)
    manifest = PublicManifest(
        dataset=spec.name,
        key=key,
        source_digests={role: f.digest[1] for role, f in spec.files.items()},
        split_algorithm=SPLIT_ALGORITHM,
        seed=seed,
        heldout_size=heldout_size,
        train_size=len(split.train_y),
        layout_version=LAYOUT_VERSION,
        heldout_indices_sha256=hashlib.sha256(heldout_idx.astype("<i8").tobytes()).hexdigest(),
        layouts={name: str(path.relative_to(folder)) for name, path in layouts.items()},
    )
    (folder / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2) + "\n")


def public_cache(
    dataset: str | DatasetSpec,
    data_dir: Path | None = None,
    *,
    heldout_size: int | None = None,
    seed: int | None = None,
    allow_download: bool = True,
) -> Path:
    """Folder ``<cache>/public/<name>-<key>`` holding the public split, built on first use.

    Inside: ``.keras/datasets/<x>/*.gz`` (use the folder as ``HOME``),
    ``<X>/raw/*`` (use it as torchvision's ``root``) and ``manifest.json``; for CIFAR
    batches, ``<folder>/*`` (torchvision's ``root`` too) instead of both.
    Treat it as read-only; copy what a sandbox may write to (keras wants its
    ``~/.keras`` writable). Safe to call from concurrent processes.
    """
    spec = get_spec(dataset)
    heldout_size = spec.split.heldout if heldout_size is None else heldout_size
    seed = spec.split.seed if seed is None else seed
    key = public_key(spec, heldout_size=heldout_size, seed=seed)

    def build(folder: Path) -> None:
        official = load_official(spec, data_dir, allow_download=allow_download)
        _build(folder, spec, official, heldout_size=heldout_size, seed=seed, key=key)

    return build_once(cache_root() / "public" / f"{spec.name}-{key}", MANIFEST_FILE, build)
