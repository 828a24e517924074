"""A dataset as tensorflow_datasets prepared it: found, checked and written.

``tfds.load(name)`` downloads and prepares a dataset once, into
``<data_dir>/<name>/<version>/``: ``dataset_info.json`` (its splits and the number of
records in each shard), ``features.json`` and TFRecord shards. An instructor who ran
it once on a machine with internet hands nngrade that folder (or the ``data_dir``
above it); nngrade checks it against the dataset file (version, the size of every
split, every shard's records) and lets notebooks read it offline, where
``tfds.load`` finds a prepared dataset and downloads nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runner.datasets.errors import DatasetNotFound, MalformedDataFile
from runner.datasets.locate import DATA_DIR_ENV
from runner.datasets.registry import DatasetSpec, TfdsPrepared
from runner.datasets.tfrecord import BadRecordFile, count_records, write_records
from runner.i18n.message import msg

INFO_FILE = "dataset_info.json"
FEATURES_FILE = "features.json"
SHARD_TEMPLATE = "{DATASET}-{SPLIT}.{FILEFORMAT}-{SHARD_X_OF_Y}"
TFDS_DATA_DIR_ENV = "TFDS_DATA_DIR"
"""Where tfds looks when a notebook names no ``data_dir`` (default ``~/tensorflow_datasets``)."""


class SplitInfo(BaseModel):
    """One split as ``dataset_info.json`` records it (numbers are strings there)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: str
    shard_lengths: list[int] = Field(alias="shardLengths")
    num_bytes: int = Field(0, alias="numBytes")
    filepath_template: str = Field(SHARD_TEMPLATE, alias="filepathTemplate")


class PreparedInfo(BaseModel):
    """The part of ``dataset_info.json`` that says what the shards hold."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: str
    version: str
    file_format: str = Field("tfrecord", alias="fileFormat")
    splits: list[SplitInfo] = Field(default_factory=list)

    def split(self, name: str) -> SplitInfo | None:
        return next((split for split in self.splits if split.name == name), None)


def shard_names(info: PreparedInfo, split: SplitInfo) -> list[str]:
    """File names of a split's shards, from its template."""
    count = len(split.shard_lengths)
    return [split.filepath_template.replace("{DATASET}", info.name)
            .replace("{SPLIT}", split.name).replace("{FILEFORMAT}", info.file_format)
            .replace("{SHARD_X_OF_Y}", f"{index:05d}-of-{count:05d}")
            .replace("{SHARD_INDEX}", f"{index:05d}").replace("{NUM_SHARDS}", f"{count:05d}")
            for index in range(count)]


def read_info(folder: Path) -> PreparedInfo:
    path = folder / INFO_FILE
    try:
        return PreparedInfo.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as error:
        raise MalformedDataFile(path, msg("error.tfds.info", error=str(error)[:300])) from None


def check_prepared(folder: Path, tfds: TfdsPrepared) -> PreparedInfo:
    """The folder's info when it holds exactly the declared version and splits, each shard
    whole; :class:`MalformedDataFile` naming the first file that does not."""
    info = read_info(folder)
    if (info.name, info.version) != (tfds.name, tfds.version):
        raise MalformedDataFile(folder / INFO_FILE, msg(
            "error.tfds.version", found=f"{info.name} {info.version}",
            expected=f"{tfds.name} {tfds.version}"))
    if info.file_format != "tfrecord":
        raise MalformedDataFile(folder / INFO_FILE, msg("error.tfds.file_format",
                                                        format=info.file_format))
    for name, size in tfds.splits.items():
        split = info.split(name)
        if split is None or sum(split.shard_lengths) != size:
            raise MalformedDataFile(folder / INFO_FILE, msg(
                "error.tfds.split_size", split=name, expected=size,
                found=sum(split.shard_lengths) if split else 0))
        for shard, length in zip(shard_names(info, split), split.shard_lengths, strict=True):
            path = folder / shard
            try:
                found = count_records(path)
            except FileNotFoundError:
                raise MalformedDataFile(path, msg("error.tfds.shard_missing")) from None
            except BadRecordFile as error:
                raise MalformedDataFile(path, str(error)) from None
            if found != length:
                raise MalformedDataFile(path, msg("error.tfds.shard_size", expected=length,
                                                  found=found))
    return info


def _roots(spec: DatasetSpec, data_dir: Path | None) -> list[Path]:
    """Folders that may be a tfds ``data_dir`` holding the dataset, in the order tried."""
    given = [data_dir] if data_dir else []
    if not given and os.environ.get(DATA_DIR_ENV):
        given = [Path(os.environ[DATA_DIR_ENV])]
    own = [Path(os.environ[TFDS_DATA_DIR_ENV])] if os.environ.get(TFDS_DATA_DIR_ENV) else []
    roots = []
    for root in [*given, *spec.system_dirs, *own, Path("~/tensorflow_datasets")]:
        root = root.expanduser()
        roots += [root, root / "tensorflow_datasets"]
    return roots


def find_prepared(spec: DatasetSpec, data_dir: Path | None = None) -> Path:
    """The checked ``<data_dir>/<name>/<version>`` folder of a ``tfds_prepared`` dataset.

    A folder given by the user that is present but wrong is an error, not a reason to
    look further (see runner.datasets.locate).
    """
    tfds = spec.tfds
    assert tfds is not None
    looked = []
    for root in _roots(spec, data_dir):
        for folder in (root / tfds.name / tfds.version, root):
            if (folder / INFO_FILE).is_file() and folder.name == tfds.version:
                check_prepared(folder, tfds)
                return folder
        looked.append(str(root / tfds.name / tfds.version))
    raise DatasetNotFound(
        msg("error.tfds.not_found", name=spec.name, title=spec.title, places=looked),
        summary=msg("error.tfds.not_found.summary", name=tfds.name, version=tfds.version),
        hint=msg("error.tfds.not_found.hint", name=tfds.name, version=tfds.version))


def write_prepared(folder: Path, info: dict, features: dict, splits: dict[str, list[bytes]],
                   label_files: dict[str, list[str]]) -> None:
    """Write a prepared folder as tfds does: one shard per split, ``info`` completed with
    each split's size, ``features`` as ``features.json`` and ``<feature>.labels.txt``."""
    folder.mkdir(parents=True, exist_ok=True)
    recorded = []
    for name, records in splits.items():
        shard = f"{info['name']}-{name}.tfrecord-00000-of-00001"
        size = write_records(folder / shard, records)
        recorded.append({"filepathTemplate": SHARD_TEMPLATE, "name": name,
                         "numBytes": str(size), "shardLengths": [str(len(records))]})
    (folder / INFO_FILE).write_text(json.dumps({**info, "fileFormat": "tfrecord",
                                                "splits": recorded}, indent=2))
    (folder / FEATURES_FILE).write_text(json.dumps(features, indent=4))
    for feature, names in label_files.items():
        (folder / f"{feature}.labels.txt").write_text("".join(f"{n}\n" for n in names))
