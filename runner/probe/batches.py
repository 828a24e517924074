"""Serve CIFAR-style batches offline: torchvision's CIFAR classes and keras' load_data().

The host puts the public split, written in the dataset's own batch format, in one
folder. Both loaders check their files against the official digests, which a
public split cannot have: torchvision's classes are told the digests of the
files actually provisioned (the check still catches a file damaged in the
sandbox), and keras' ``load_data()``, which also insists on 50,000 training
images, returns the provisioned batches directly, in the layout and dtypes it
documents. Nothing on the host is weakened: these patches live in the student's
kernel, which never sees the hidden data.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .datasets import unpatched_class
from .state import STATE

KERAS_PACKAGES = ("keras", "tf_keras")


def batch_sets(kind: str) -> dict[str, dict[str, Any]]:
    """Loader name -> its batch description, from the configuration's ``kind`` entry."""
    return dict(STATE.config.get(kind) or {})


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _read(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    data = batch[b"data"]
    labels = np.asarray(batch[label_key.encode()], dtype=np.uint8)
    return data, labels


def _part(batches: dict[str, Any], part: str) -> tuple[np.ndarray, np.ndarray]:
    folder = Path(batches["folder"])
    read = [_read(folder / name, batches["label_key"]) for name in batches[part]]
    height, width, channels = batches["shape"]
    data = np.concatenate([r[0] for r in read]).reshape(-1, channels, height, width)
    return data, np.concatenate([r[1] for r in read]).reshape(-1, 1)


# -- torchvision ----------------------------------------------------------------------------

def _offline_download(name: str, folder: Path) -> Any:
    def download(self: Any) -> None:
        """Offline replacement for torchvision's download (nngrade sandbox)."""
        if self._check_integrity():
            return
        target = Path(self.root) / self.base_folder
        try:
            target.mkdir(parents=True, exist_ok=True)
            for item in sorted(folder.iterdir()):
                if item.is_file() and not (target / item.name).exists():
                    shutil.copyfile(item, f"{target / item.name}.part")
                    os.replace(f"{target / item.name}.part", target / item.name)
        except OSError as error:
            STATE.note("note.probe.root_not_writable", loader=name, root=str(self.root)[:200],
                       error=str(error.strerror or error))
            self.root = str(folder.parent)

    return download


def install_torchvision_batches(datasets: ModuleType) -> None:
    """Post-import callback for ``torchvision.datasets``: CIFAR-style classes go offline."""
    for name, batches in batch_sets("torchvision_batches").items():
        cls = unpatched_class(datasets, name, "train_list", "a CIFAR-style")
        if cls is None:
            continue
        folder = Path(batches["folder"])
        digests = {item.name: _md5(item) for item in folder.iterdir() if item.is_file()}
        cls.train_list = [[n, digests.get(n)] for n in batches["train"]]
        cls.test_list = [[n, digests.get(n)] for n in batches["test"]]
        cls.meta = {**cls.meta, "filename": batches["meta"], "md5": digests.get(batches["meta"])}
        download = _offline_download(name, folder)
        download._nngrade_probe = True  # type: ignore[attr-defined]
        cls.download = download


# -- keras ----------------------------------------------------------------------------------

def _image_data_format(package: str) -> str:
    try:
        return sys.modules[package].backend.image_data_format()
    except (KeyError, AttributeError):
        return "channels_last"


def _served(package: str, batches: dict[str, Any]) -> Any:
    def load_data(*args: Any, **kwargs: Any) -> Any:
        """The public split, offline, as keras' own load_data() returns it (nngrade)."""
        (x_train, y_train), (x_test, y_test) = _part(batches, "train"), _part(batches, "test")
        if _image_data_format(package) == "channels_last":
            x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
        return (np.ascontiguousarray(x_train), y_train), (np.ascontiguousarray(x_test), y_test)

    return load_data


def _replace_load_data(package: str, batches: dict[str, Any]) -> Any:
    def patch(module: ModuleType) -> None:
        original = getattr(module, "load_data", None)
        if original is None or getattr(original, "_nngrade_probe", False):
            return
        # Swap the code, not the attribute: every name already bound to this function
        # (keras.datasets.x, tf.keras.datasets.x) now serves the public split too.
        module.__dict__["_nngrade_load_data"] = _served(package, batches)
        original.__code__ = _forward.__code__
        original._nngrade_probe = True

    return patch


def _forward(*args: Any, **kwargs: Any) -> Any:
    return _nngrade_load_data(*args, **kwargs)  # type: ignore[name-defined]  # noqa: F821


def keras_modules(name: str) -> list[tuple[str, str]]:
    """(package, module) pairs that define ``keras.datasets.<name>.load_data``."""
    return [(package, f"{package}{middle}.datasets.{name}")
            for package in KERAS_PACKAGES for middle in (".src", "")]


def install_keras_batches(when_imported: Any) -> None:
    for name, batches in batch_sets("keras_batches").items():
        for package, module in keras_modules(name):
            when_imported(module, _replace_load_data(package, batches))
