"""Put into a job folder what the sandbox may see, and keep on the host what it may not.

The sandbox gets the public split in the places student loaders look, the
images to predict (hidden test images, shuffled, in grade mode; the public
held-out images in check mode) and the function arguments. The matching truth
(labels, arguments) stays in the returned :class:`Truth` on the host.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from runner.datasets import (
    get_spec,
    keras_dir,
    load_official,
    public_cache,
    torchvision_raw_dir,
)
from runner.datasets._idx import read_idx
from runner.report.model import Mode
from runner.sandbox.job import JobDir
from runner.spec import AssignmentSpec

CHECK_MODE_SEED = 0


@dataclass
class Truth:
    """What scoring compares the sandbox's output with; never written into the job."""

    labels: np.ndarray | None = None
    evaluation_set: str = "none"
    arguments: dict[str, np.ndarray] = field(default_factory=dict)


def provision(spec: AssignmentSpec, job: JobDir, mode: Mode,
              data_dir: Path | None = None) -> tuple[dict, Truth]:
    """Fill ``job`` for ``spec``; return the probe configuration and the host-side truth."""
    rng = np.random.default_rng(CHECK_MODE_SEED if mode is Mode.check else secrets.randbits(64))
    probe: dict = {"compat": spec.compat}
    truth = Truth()
    if spec.collect.models is not None:
        probe["models"], probe["torchvision_raw"] = _models(spec, job, mode, data_dir, rng, truth)
    if spec.collect.functions:
        probe["functions"] = []
        for function in spec.collect.functions:
            args = function.arguments
            values = np.sort(rng.uniform(args.low, args.high, args.count))
            path = job.data / f"args_{function.name}.npy"
            np.save(path, values)
            truth.arguments[function.name] = values
            probe["functions"].append({"name": function.name, "args": job.seen(path)})
    return probe, truth


def _models(spec: AssignmentSpec, job: JobDir, mode: Mode, data_dir: Path | None,
            rng: np.random.Generator, truth: Truth) -> tuple[dict, dict]:
    collect = spec.collect.models
    assert collect is not None
    dataset = get_spec(collect.dataset)
    public = public_cache(dataset, data_dir)
    _copy_tree(keras_dir(public, dataset), keras_dir(job.home, dataset))
    raw = torchvision_raw_dir(job.data / "torchvision", dataset)
    _copy_tree(torchvision_raw_dir(public, dataset), raw)
    heldout_x = read_idx(raw / dataset.files["test_images"].name)
    heldout_y = read_idx(raw / dataset.files["test_labels"].name)
    if mode is Mode.grade:
        hidden = load_official(dataset, data_dir)
        order = rng.permutation(len(hidden.test_x))
        eval_x, truth.labels = hidden.test_x[order], hidden.test_y[order].astype(np.int64)
        truth.evaluation_set = f"hidden official test set ({len(order)} images)"
    else:
        eval_x, truth.labels = heldout_x, heldout_y.astype(np.int64)
        truth.evaluation_set = (f"public held-out split ({len(heldout_x)} images from the "
                                "official training set; the hidden test set is used by `grade`)")
    size = collect.calibration_size
    arrays = {"eval_inputs": eval_x, "calibration_inputs": heldout_x[:size],
              "calibration_labels": heldout_y[:size].astype(np.int64)}
    config: dict = {"num_classes": dataset.num_classes, "max_models": 32}
    for name, array in arrays.items():
        np.save(job.data / f"{name}.npy", np.ascontiguousarray(array))
        config[name] = job.seen(job.data / f"{name}.npy")
    return config, {dataset.torchvision_folder: job.seen(raw)}


def _copy_tree(source: Path, dest: Path) -> None:
    """Copy, never hard-link: a student writing to a linked file would corrupt the cache."""
    shutil.copytree(source, dest, dirs_exist_ok=True)
