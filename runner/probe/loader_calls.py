"""Which framework dataset loaders the notebook calls, so a wrong dataset is named as such.

A notebook that loads CIFAR-10 for a Fashion-MNIST assignment fails on a download
the sandbox cannot make; the host turns these records into a sentence saying which
dataset the notebook asked for and which one the assignment provides. Only names
are recorded; the loaders themselves run unchanged.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from .state import STATE

KERAS_PACKAGES = ("keras", "tf_keras")
KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters",
                  "boston_housing", "california_housing")
"""The modules of ``keras.datasets`` (each has a ``load_data``)."""


def _forward_watched(*args: Any, **kwargs: Any) -> Any:
    return _nngrade_watched_load_data(*args, **kwargs)  # type: ignore[name-defined]  # noqa: F821


def _watch_keras(name: str) -> Callable[[ModuleType], None]:
    def patch(module: ModuleType) -> None:
        original = getattr(module, "load_data", None)
        if not isinstance(original, types.FunctionType) or getattr(original, "_nngrade_probe",
                                                                   False):
            return
        unchanged = types.FunctionType(original.__code__, original.__globals__,
                                       original.__name__, original.__defaults__,
                                       original.__closure__)
        unchanged.__kwdefaults__ = original.__kwdefaults__

        def record_then_load(*args: Any, **kwargs: Any) -> Any:
            STATE.loader_called(f"keras:{name}")
            return unchanged(*args, **kwargs)

        # The code is swapped, not the attribute, so names bound earlier record too.
        module.__dict__["_nngrade_watched_load_data"] = record_then_load
        original.__code__ = _forward_watched.__code__
        original._nngrade_probe = True  # type: ignore[attr-defined]

    return patch


def _watch_torchvision(vision: ModuleType) -> None:
    base = getattr(vision, "VisionDataset", None)
    init = getattr(base, "__init__", None)
    if base is None or init is None or getattr(init, "_nngrade_probe", False):
        return

    def recording_init(self: Any, *args: Any, **kwargs: Any) -> None:
        STATE.loader_called(f"torchvision:{type(self).__name__}")
        init(self, *args, **kwargs)

    recording_init._nngrade_probe = True  # type: ignore[attr-defined]
    base.__init__ = recording_init


def tfds_dataset(name: object) -> str:
    """The dataset of a ``tfds.load``/``tfds.builder`` name: ``oxford_iiit_pet`` of
    ``oxford_iiit_pet:4.*.*`` or of ``oxford_iiit_pet/config:4.0.0``."""
    return str(name).split(":", 1)[0].split("/", 1)[0].strip()


def _offered_data_dir(name: str, kwargs: dict[str, Any]) -> None:
    """Where tfds would look for an offered dataset and not find it (a ``data_dir=`` of the
    notebook's own, a Drive or Colab path; another offered dataset's folder), it is told
    the folder that holds it: otherwise it would try to download it."""
    root = (STATE.config.get("tfds_data_dirs") or {}).get(name)
    if not root:
        return
    given = kwargs.get("data_dir")
    looked = Path(str(given)).expanduser() if given else Path(os.environ.get("TFDS_DATA_DIR", ""))
    if (looked / name).is_dir():
        return
    kwargs["data_dir"] = root
    if given:
        STATE.note("note.probe.tfds_data_dir", dataset=name[:100], data_dir=str(given)[:200])


def watch_tfds(tfds: ModuleType) -> None:
    """Wrap ``tfds.load`` and ``tfds.builder``: the wrappers are in place before a
    notebook's ``from tensorflow_datasets import load`` reads them."""
    for attribute in ("load", "builder"):
        original = getattr(tfds, attribute, None)
        if not callable(original) or getattr(original, "_nngrade_probe", False):
            continue

        def recording(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            name = tfds_dataset(args[0] if args else kwargs.get("name", ""))
            STATE.loader_called(f"tfds:{name}")
            _offered_data_dir(name, kwargs)
            return _original(*args, **kwargs)

        recording._nngrade_probe = True  # type: ignore[attr-defined]
        recording.__doc__, recording.__name__ = original.__doc__, original.__name__
        setattr(tfds, attribute, recording)


def install_loader_watch(when_imported: Callable[[str, Callable[[ModuleType], None]], None],
                         served: set[str]) -> None:
    """Record calls of every keras dataset loader but the ``served`` ones and of every
    torchvision dataset (tensorflow_datasets': :func:`watch_tfds`)."""
    for package in KERAS_PACKAGES:
        for name in KERAS_DATASETS:
            if name not in served:
                when_imported(f"{package}.src.datasets.{name}", _watch_keras(name))
    when_imported("torchvision.datasets.vision", _watch_torchvision)
