"""Named datasets, declared as data: one ``datasets/<name>.yaml`` file per dataset.

A file says what the dataset is (its task, what one sample looks like, its
classes), where its files are found and what they hash to, which format
adapter reads them, how the public and hidden parts are cut, and which
framework loaders must find the public part offline. Adding a dataset of a
known format is adding a file; this module only validates.

Checksums are of the *decompressed* content: distributors gzip the same bytes
differently (Debian's ``.gz`` files differ from the official ones), and we
accept either compressed or uncompressed copies.
"""

from __future__ import annotations

import difflib
import functools
import math
import os
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from runner._yaml_lines import line_of
from runner.datasets.errors import DatasetError, UnknownDataset
from runner.i18n.message import msg
from runner.paths import ProjectPaths

ROLES = ("train_images", "train_labels", "test_images", "test_labels")
"""The four files of an IDX image-classification dataset, by role."""

GENERATOR_MODULES = ("sklearn.datasets", "runner.datasets.synthetic")
"""Modules whose ``make_*`` functions a dataset file may name as its generator."""

DATASETS_ENV = "NNGRADE_DATASETS"
"""Extra folders of dataset files, searched last: a file there replaces one of its name."""


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Task(StrEnum):
    """What a model trained on the dataset is asked to do; decides what is recorded."""

    classification = "classification"
    forecasting = "forecasting"
    segmentation = "segmentation"
    generation = "generation"


class Format(StrEnum):
    """The adapter that reads the dataset's files (or draws its samples)."""

    idx = "idx"
    cifar_batches = "cifar_batches"  # CIFAR's pickled "python version" batches, in a tar.gz
    generator = "generator"
    csv_series = "csv_series"  # one time series: a time column and a value column
    tfds_prepared = "tfds_prepared"  # a folder tensorflow_datasets prepared (TFRecord shards)


class SplitMethod(StrEnum):
    stratified = "stratified"  # a class-balanced held-out part of the official training set
    fresh_sample = "fresh_sample"  # hidden points drawn anew from the generator per run
    time_tail = "time_tail"  # the last values of a series are hidden
    offered_whole = "offered_whole"  # only offered to notebooks, every split: nothing hidden


class FileSpec(_Data):
    """One data file: its uncompressed name and the digest of its uncompressed bytes.

    sha256 where it is known; md5 only where the dataset's publishers give nothing
    else (CIFAR's extracted batches, whose archive has a sha256 of its own).
    """

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$", description="e.g. train-images-idx3-ubyte")
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    md5: str | None = Field(None, pattern=r"^[0-9a-f]{32}$")

    @model_validator(mode="after")
    def _has_digest(self) -> FileSpec:
        if self.sha256 is None and self.md5 is None:
            raise ValueError("a file needs a sha256 (or, failing that, an md5)")
        return self

    @property
    def digest(self) -> tuple[str, str]:
        """(algorithm, hex digest) to verify the content with; sha256 when both are given."""
        return ("sha256", self.sha256) if self.sha256 else ("md5", self.md5 or "")

    @property
    def gz_name(self) -> str:
        """Name of the gzipped form, as mirrors serve it and keras caches it."""
        return f"{self.name}.gz"


class Archive(_Data):
    """One archive that holds every file in ``folder`` (CIFAR's ``cifar-10-python.tar.gz``).

    Its sha256 is of the archive's own bytes, as its publishers and keras give it; the
    host reads the files out of it without extracting anything.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    folder: str = Field(pattern=r"^[A-Za-z0-9._-]+$", description="Folder of the files inside.")


class Batches(_Data):
    """Which files of a ``cifar_batches`` dataset are the training and test batches."""

    train: list[str] = Field(min_length=1, description="File roles, in order.")
    test: list[str] = Field(min_length=1)
    meta: str = Field(description="File role of the class names.")
    label_key: str = Field("labels", description="labels (CIFAR-10) or fine_labels (CIFAR-100)")
    names_key: str = Field("label_names", description="Key of the class names in meta.")


class Sample(_Data):
    """What one input looks like in the dataset's own terms (before any scaling)."""

    shape: tuple[int, ...] = Field(min_length=1, max_length=3,
                                   description="(H, W), (H, W, C) or (features,).")
    dtype: str = Field(pattern=r"^(uint8|float32|float64)$")
    range: tuple[float, float] | None = Field(
        None, description="Value range of raw inputs, e.g. [0, 255] for 8-bit images.")

    @property
    def channels(self) -> int:
        """Values that share a scaling: 1 for grayscale, C for colour, every feature else."""
        if len(self.shape) == 2:
            return 1
        return self.shape[-1]


class Split(_Data):
    method: SplitMethod
    heldout: int = Field(gt=0, description="Size of the public held-out part or hidden sample.")
    seed: int = Field(0, ge=0, description="Seed of the public split; changing it changes "
                      "every student's public data.")


class Normalization(_Data):
    """A (mean, std) pair per channel, in units of the range scaled to [0, 1]."""

    mean: list[float] = Field(min_length=1)
    std: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _same_length(self) -> Normalization:
        if len(self.mean) != len(self.std) or not all(s > 0 for s in self.std):
            raise ValueError("mean and std need one entry per channel, std above 0")
        return self


class Generator(_Data):
    """A library function that draws ``(inputs, targets)`` given ``n_samples`` and a seed."""

    function: str = Field(pattern=r"^[a-z_.]+\.make_[a-z_]+$")
    params: dict[str, float | int | bool] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _allowed(self) -> Generator:
        module = self.function.rsplit(".", 1)[0]
        if module not in GENERATOR_MODULES:
            raise ValueError(f"generator module {module!r} is not one of {GENERATOR_MODULES}")
        return self


class Series(_Data):
    """Column names of a ``csv_series`` file and the length of its season."""

    time: str
    value: str
    period: int | None = Field(None, ge=2, description="Season length, e.g. 12 for months.")


class PublicFile(_Data):
    """A file the public part is written to, relative to the notebook's working folder."""

    path: str = Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
    columns: tuple[str, str] = Field(description="Header: time column, value column.")

    @property
    def basename(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class Perturbation(_Data):
    """Noise a second copy of the hidden inputs gets, small enough not to change the task.

    Meant for hidden sets that are public benchmarks: a model that learned the task
    scores about the same on both copies; one that recognises the official test
    inputs (a table of their hashes and labels) does not.
    """

    noise: float = Field(gt=0, description="Uniform noise up to this many raw units, "
                         "rounded for integer samples and clipped to the range.")


class PublicTable(_Data):
    """Images as a CSV table, a label column then one column per pixel (Kaggle's form).

    Built in the sandbox from the public split the first time a notebook reads a
    file of this name, wherever it looks for it: most notebooks never do.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    part: Literal["train", "test"] = Field(description="test: the public held-out part.")


class DrawnFiles(_Data):
    """A public training sample of a generated dataset, written next to the notebook.

    For generators a notebook cannot call itself (nngrade's own): the same images for
    every student, as arrays and as the folders of images and masks real notebooks read.
    """

    count: int = Field(gt=0, le=20_000, description="Samples drawn, from seed split.seed + 2.")
    npz: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+\.npz$", description="Arrays "
                            "x_train (the samples as declared) and y_train (targets).")
    folder: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+$", description="images/NNNNN"
                               ".png (8-bit) and, for masks, masks/NNNNN.png (0 and 255).")


class TfdsPrepared(_Data):
    """Which tensorflow_datasets dataset, at which version, with how many records a split."""

    name: str = Field(pattern=r"^[a-z0-9_]+$", description="As tfds.load names it.")
    version: str = Field(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$")
    splits: dict[str, int] = Field(min_length=1, description="Split name -> records in it.")
    labels: dict[str, list[str]] = Field(
        default_factory=dict, description="Class-label features and their names, in order.")
    boxes: list[str] = Field(default_factory=list, description="Bounding-box features.")
    mask_offset: int = Field(1, ge=0, description="The mask value of the first class "
                             "(the Oxford trimaps count from 1).")


class Loaders(_Data):
    """Where framework loaders look for the dataset; the public split is put there."""

    keras: str | None = Field(None, description="idx: the folder under ~/.keras/datasets; "
                              "cifar_batches: the keras.datasets module whose load_data() "
                              "is served.")
    torchvision: str | None = Field(None, description="torchvision class name (idx: its files "
                                    "in ROOT/<this>/raw; cifar_batches: in ROOT/<folder>).")
    files: list[PublicFile] = Field(default_factory=list)
    tables: list[PublicTable] = Field(default_factory=list)
    drawn: DrawnFiles | None = None


class DatasetSpec(_Data):
    """Everything needed to find, verify, download, split and re-package one dataset.

    ``base_urls`` are tried in order; a file is fetched from ``base_url + gz_name``.
    Tests point a copy of a spec elsewhere via ``model_copy(update=...)``.
    """

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    task: Task
    format: Format
    files: dict[str, FileSpec] = Field(default_factory=dict)
    archive: Archive | None = None
    batches: Batches | None = None
    base_urls: list[str] = Field(default_factory=list)
    system_dirs: list[Path] = Field(default_factory=list)
    system_package: str | None = Field(
        default=None, description="Distribution package that installs the files in system_dirs.")
    sample: Sample
    classes: list[str] = Field(default_factory=list)
    split: Split
    normalizations: list[Normalization] = Field(default_factory=list)
    generator: Generator | None = None
    series: Series | None = None
    tfds: TfdsPrepared | None = None
    perturbation: Perturbation | None = None
    loaders: Loaders = Loaders()

    @model_validator(mode="after")
    def _check(self) -> DatasetSpec:
        if self.format is Format.idx:
            if set(self.files) != set(ROLES):
                raise ValueError(f"an idx dataset needs files with exactly the roles {ROLES}, "
                                 f"got {sorted(self.files)}")
            if len(self.sample.shape) != 2 or self.sample.dtype != "uint8":
                raise ValueError("idx images are uint8 with sample shape [H, W]")
        if self.format is Format.cifar_batches:
            self._check_batches()
        elif self.archive is not None or self.batches is not None:
            raise ValueError("archive: and batches: belong to format cifar_batches")
        if (self.format is Format.generator) != (self.generator is not None):
            raise ValueError("format generator and a generator: entry go together")
        if self.format is Format.generator and self.split.method is not SplitMethod.fresh_sample:
            raise ValueError("a generator dataset is split by method fresh_sample")
        drawn = self.loaders.drawn
        if drawn is not None and self.format is not Format.generator:
            raise ValueError("loaders.drawn belongs to format generator")
        if drawn is not None and drawn.folder and (
                len(self.sample.shape) == 1 or self.sample.shape[2:] not in ((), (1,), (3,))):
            raise ValueError("loaders.drawn.folder writes images: sample shape [H, W] or "
                             "[H, W, 1 or 3]")
        if (self.format is Format.csv_series) != (self.series is not None):
            raise ValueError("format csv_series and a series: entry go together")
        if self.format is Format.csv_series and (
                set(self.files) != {"series"} or self.split.method is not SplitMethod.time_tail):
            raise ValueError("a csv_series dataset has one file, role series, and is split by "
                             "method time_tail")
        if (self.format is Format.tfds_prepared) != (self.tfds is not None):
            raise ValueError("format tfds_prepared and a tfds: entry go together")
        if (self.format is Format.tfds_prepared) != (
                self.split.method is SplitMethod.offered_whole):
            raise ValueError("a tfds_prepared dataset is split by method offered_whole, and "
                             "only it: notebooks may load it, an assignment cannot grade on it")
        if self.task is Task.classification and len(self.classes) < 2:
            raise ValueError("a classification dataset lists at least two classes")
        for norm in self.normalizations:
            if len(norm.mean) not in (1, self.sample.channels):
                raise ValueError(f"a normalization has {len(norm.mean)} channels, the sample "
                                 f"{self.sample.channels}")
        return self

    def _check_batches(self) -> None:
        if self.archive is None or self.batches is None:
            raise ValueError("a cifar_batches dataset needs an archive: and a batches: entry")
        named = [*self.batches.train, *self.batches.test, self.batches.meta]
        unknown = sorted(set(named) - set(self.files))
        if unknown or len(set(named)) != len(named) or set(named) != set(self.files):
            raise ValueError("batches: must name every file role once; unknown: "
                             + (", ".join(unknown) or "none"))
        if len(self.sample.shape) != 3 or self.sample.dtype != "uint8":
            raise ValueError("cifar batches hold uint8 images with sample shape [H, W, C]")

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def class_names(self) -> list[str]:
        return list(self.classes)

    @property
    def image_shape(self) -> tuple[int, ...]:
        return self.sample.shape

    @property
    def sample_size(self) -> int:
        return math.prod(self.sample.shape)

    @property
    def keras_subdir(self) -> str:
        return self.loaders.keras or self.name

    @property
    def torchvision_folder(self) -> str:
        return self.loaders.torchvision or self.name

    def search_subdirs(self) -> list[str]:
        """Sub-folders of a user-given directory that may hold the files (common layouts)."""
        return [
            self.name,
            *([self.archive.folder] if self.archive else []),
            self.keras_subdir,
            f"datasets/{self.keras_subdir}",
            f".keras/datasets/{self.keras_subdir}",
            f"{self.torchvision_folder}/raw",
        ]


class DatasetFileError(DatasetError, ValueError):
    """A dataset file in ``datasets/`` is not valid; the message names file and line."""


def load_dataset_file(path: Path) -> DatasetSpec:
    """Parse one ``datasets/<name>.yaml``; every problem names the file, field and line."""
    text = path.read_text(encoding="utf-8")
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DatasetFileError(msg("error.dataset_file.yaml", path=str(path), error=str(error)),
                               hint=msg("error.dataset_file.yaml.hint")) from None
    if not isinstance(raw, dict):
        raise DatasetFileError(msg("error.dataset_file.not_mapping", path=str(path)))
    try:
        spec = DatasetSpec.model_validate(raw)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc = tuple(item["loc"])
            field = ".".join(map(str, loc)) or msg("error.spec.top_level")
            problems.append(msg("error.spec.problem", field=field, line=line_of(text, loc),
                                problem=item["msg"]))
        raise DatasetFileError(msg("error.dataset_file.invalid", path=str(path),
                                   problems=problems)) from None
    relative = [d for d in spec.system_dirs if not d.is_absolute()]
    if relative:  # folders next to the dataset file
        spec = spec.model_copy(update={"system_dirs": [
            d if d.is_absolute() else (path.parent / d).resolve() for d in spec.system_dirs]})
    if spec.name != path.stem:
        raise DatasetFileError(msg("error.dataset_file.name", path=str(path), name=spec.name,
                                   file=path.name), hint=msg("error.dataset_file.name.hint"))
    return spec


@functools.cache
def _load(path: Path, modified: float) -> DatasetSpec:
    return load_dataset_file(path)


def _folders(paths: ProjectPaths | None) -> list[Path]:
    """nngrade's own ``datasets/``, a course repository's (``$NNGRADE_HOME``), then the
    folders in ``$NNGRADE_DATASETS`` (a stand-in, a private copy), each over the last."""
    own = ProjectPaths(Path(__file__).resolve().parents[2]).datasets
    theirs = (paths or ProjectPaths.default()).datasets
    folders = [own] if theirs.resolve() == own.resolve() else [own, theirs]
    extra = os.environ.get(DATASETS_ENV, "")
    return folders + [Path(folder) for folder in extra.split(os.pathsep) if folder]


def _files(paths: ProjectPaths | None) -> dict[str, Path]:
    """Dataset name -> its file; a course repository's file replaces one of the same name."""
    found: dict[str, Path] = {}
    for folder in _folders(paths):
        if folder.is_dir():
            found.update({path.stem: path for path in sorted(folder.glob("*.yaml"))})
    return found


def registry(paths: ProjectPaths | None = None) -> dict[str, DatasetSpec]:
    """Every declared dataset, by name (each file validated; see :func:`get_spec`)."""
    return {name: _load(path, path.stat().st_mtime) for name, path in _files(paths).items()}


def get_spec(dataset: str | DatasetSpec) -> DatasetSpec:
    """Resolve a registry name; a spec passes through (tests use modified copies)."""
    if isinstance(dataset, DatasetSpec):
        return dataset
    known = _files(None)
    if dataset in known:  # only this file is read: a broken other one stops nothing here
        return _load(known[dataset], known[dataset].stat().st_mtime)
    close = difflib.get_close_matches(dataset, list(known), n=3, cutoff=0.4)
    where = {"known": sorted(known), "folder": str(ProjectPaths.default().datasets)}
    hint = (msg("error.dataset.unknown.suggest", close=close, **where) if close
            else msg("error.dataset.unknown.known", **where))
    raise UnknownDataset(msg("error.dataset.unknown", name=dataset), hint=hint)
