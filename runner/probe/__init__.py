"""nngrade's in-sandbox probe: records the models a notebook trains, then measures them.

Copied into the sandbox and imported as ``nngrade_probe`` (relative imports
only; stdlib and numpy only; frameworks are patched lazily, only once the
notebook itself imports them; ``compat`` serves notebooks written for older
NumPy and Keras 2 what those removed). An IPython startup file calls ``install``;
after the last cell the grader runs ``finish`` in the same kernel, which
writes ``measurements.json`` plus ``.npy`` files into ``out_dir``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .imports import when_imported
from .state import STATE

__all__ = ["finish", "install"]


def _track_torch(torch: Any) -> None:
    from .track_torch import install_torch

    install_torch(torch)


def _count_autograd(torch: Any) -> None:
    from .autograd_count import install_autograd_counter

    if STATE.autograd_counter is None:
        STATE.autograd_counter = install_autograd_counter(torch)


def _reset_depth(*_: Any) -> None:
    if STATE.torch_tracker is not None:
        STATE.torch_tracker.reset_depth()


def _watch_cells() -> None:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        shell.events.register("pre_run_cell", _reset_depth)


def install(config_path: str | os.PathLike[str]) -> None:
    """Read the JSON config and arm the import hooks; call once, at kernel start."""
    STATE.config = json.loads(Path(config_path).read_text())
    if STATE.installed:
        return
    STATE.installed = True
    STATE.started = time.time()
    from .batches import install_keras_batches, install_torchvision_batches
    from .datasets import install_torchvision
    from .loader_calls import install_loader_watch, watch_tfds
    from .track_keras import install_keras, install_tf_keras

    if STATE.config.get("compat", True):
        from .compat import install_compat

        install_compat()
    if STATE.config.get("functions"):
        when_imported("torch", _count_autograd)
    if "models" in STATE.config:
        when_imported("torch", _track_torch)
        when_imported("keras", install_keras)
        when_imported("tf_keras", install_tf_keras)
    if STATE.config.get("torchvision_raw"):
        when_imported("torchvision.datasets", install_torchvision)
    if STATE.config.get("torchvision_batches"):
        when_imported("torchvision.datasets", install_torchvision_batches)
    if STATE.config.get("keras_batches"):
        install_keras_batches(when_imported)
    if STATE.config.get("tfds_data_dirs"):
        # Where the offered tensorflow_datasets datasets are; tfds reads this when imported.
        os.environ["TFDS_DATA_DIR"] = next(iter(STATE.config["tfds_data_dirs"].values()))
    if STATE.config.get("tfds_data_dirs") or "models" in STATE.config:
        when_imported("tensorflow_datasets", watch_tfds)  # records loads, finds offered data
    if "models" in STATE.config:
        install_loader_watch(when_imported, set(STATE.config.get("keras_batches") or {}))
    from .files import install_files

    install_files()
    _watch_cells()


def finish() -> Path:
    """Measure trained models and configured functions; returns measurements.json's path."""
    from .functions import evaluate
    from .measure import export_models, measure_models, user_namespace
    from .output import save_json

    if not STATE.installed:
        raise RuntimeError("nngrade_probe.install(config_path) was never called")
    out_dir = Path(STATE.config["out_dir"])
    namespace = user_namespace()
    models: list[dict[str, Any]] = []
    functions: list[dict[str, Any]] = []
    if "models" in STATE.config:
        try:
            models = measure_models(STATE.config["models"], namespace, out_dir)
        except Exception as exc:
            STATE.note("note.probe.not_measured", error=f"{type(exc).__name__}: {exc}")
    for index, spec in enumerate(STATE.config.get("functions") or []):
        functions.append(evaluate(spec, index, namespace, out_dir))
    images: list[dict[str, Any]] = []
    if STATE.config.get("saved_images"):
        from .saved_images import save_images

        try:
            from .files import working_folder

            images = save_images(Path(working_folder()), STATE.started, out_dir)
        except Exception as exc:
            STATE.note("note.probe.images_not_saved", error=f"{type(exc).__name__}: {exc}")
    path = out_dir / "measurements.json"

    def save() -> None:
        save_json(path, {"schema": 1, "models": models, "functions": functions,
                         "notes": list(STATE.notes), "loaders": list(STATE.loaders),
                         "saved_images": images})

    save()
    if models:  # then the graphs, which may take a while or fail
        try:
            export_models(models, out_dir)
        except Exception as exc:
            STATE.note("note.probe.not_exported", error=f"{type(exc).__name__}: {exc}")
        save()
    return path
