"""Named datasets: which files make them up, what they must hash to, where they live.

Checksums are of the *decompressed* content: distributors gzip the same bytes
differently (Debian's ``.gz`` files differ from the official ones), and we
accept either compressed or uncompressed copies.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runner.datasets.errors import UnknownDataset

ROLES = ("train_images", "train_labels", "test_images", "test_labels")
"""The four files of an IDX image-classification dataset, by role."""


class FileSpec(BaseModel):
    """One data file: its uncompressed name and the sha256 of its uncompressed bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$", description="e.g. train-images-idx3-ubyte")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @property
    def gz_name(self) -> str:
        """Name of the gzipped form, as mirrors serve it and keras caches it."""
        return f"{self.name}.gz"


class DatasetSpec(BaseModel):
    """Everything needed to find, verify, download and re-package one dataset.

    ``base_urls`` are tried in order; a file is fetched from ``base_url + gz_name``.
    Tests point a copy of a spec at a local server via ``model_copy(update=...)``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    files: dict[str, FileSpec]
    base_urls: list[str] = Field(default_factory=list)
    system_dirs: list[Path] = Field(default_factory=list)
    system_package: str | None = Field(
        default=None, description="Distribution package that installs the files in system_dirs."
    )
    num_classes: int = Field(gt=1)
    class_names: list[str]
    image_shape: tuple[int, int] = (28, 28)
    keras_subdir: str = Field(description="Folder under ~/.keras/datasets keras reads.")
    torchvision_folder: str = Field(description="torchvision class name: ROOT/<this>/raw.")

    @model_validator(mode="after")
    def _check(self) -> DatasetSpec:
        if set(self.files) != set(ROLES):
            raise ValueError(f"files must have exactly the roles {ROLES}, got {sorted(self.files)}")
        if len(self.class_names) != self.num_classes:
            raise ValueError("class_names must have num_classes entries")
        return self

    def search_subdirs(self) -> list[str]:
        """Sub-folders of a user-given directory that may hold the files (common layouts)."""
        return [
            self.name,
            self.keras_subdir,
            f"datasets/{self.keras_subdir}",
            f".keras/datasets/{self.keras_subdir}",
            f"{self.torchvision_folder}/raw",
        ]


FASHION_MNIST = DatasetSpec(
    name="fashion_mnist",
    title="Fashion-MNIST",
    files={
        "train_images": FileSpec(
            name="train-images-idx3-ubyte",
            sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        "train_labels": FileSpec(
            name="train-labels-idx1-ubyte",
            sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        "test_images": FileSpec(
            name="t10k-images-idx3-ubyte",
            sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        "test_labels": FileSpec(
            name="t10k-labels-idx1-ubyte",
            sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    },
    base_urls=["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    system_dirs=[Path("/usr/share/datasets/fashion-mnist")],
    system_package="dataset-fashion-mnist",
    num_classes=10,
    class_names=[
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    keras_subdir="fashion-mnist",
    torchvision_folder="FashionMNIST",
)

REGISTRY: dict[str, DatasetSpec] = {FASHION_MNIST.name: FASHION_MNIST}


def get_spec(dataset: str | DatasetSpec) -> DatasetSpec:
    """Resolve a registry name; a spec passes through (tests use modified copies)."""
    if isinstance(dataset, DatasetSpec):
        return dataset
    try:
        return REGISTRY[dataset]
    except KeyError:
        close = difflib.get_close_matches(dataset, list(REGISTRY), n=3, cutoff=0.4)
        hint = (f"Did you mean {', '.join(close)}? " if close else "") + (
            "Known datasets: " + ", ".join(sorted(REGISTRY))
        )
        raise UnknownDataset(f"unknown dataset {dataset!r}", hint=hint) from None
