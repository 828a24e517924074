"""Put into a job folder what the sandbox may see, and keep on the host what it may not.

The sandbox gets the public split in the places student loaders look, the
inputs to predict (hidden ones, shuffled, in grade mode; public ones in check
mode; see runner.datasets.evaluation) and the function arguments. The matching truth
(labels, arguments) stays in the returned :class:`Truth` on the host.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from runner.datasets import (
    DatasetSpec,
    get_spec,
    keras_dir,
    public_cache,
    torchvision_raw_dir,
)
from runner.datasets.evaluation import evaluation_sets
from runner.datasets.registry import Format
from runner.report.model import Mode
from runner.sandbox.job import JobDir
from runner.spec import AssignmentSpec

CHECK_MODE_SEED = 0


@dataclass
class Truth:
    """What scoring compares the sandbox's output with; never written into the job."""

    labels: np.ndarray | None = None
    task: str = "classification"
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
    sets = evaluation_sets(dataset, hidden=mode is Mode.grade, rng=rng,
                           calibration_size=collect.calibration_size, data_dir=data_dir)
    truth.labels, truth.evaluation_set = sets.eval_y, sets.description
    truth.task = dataset.task.value
    torchvision = _provide_loaders(dataset, job, data_dir)
    arrays = {"eval_inputs": sets.eval_x, "calibration_inputs": sets.calibration_x,
              "calibration_labels": sets.calibration_y}
    config: dict = {"task": dataset.task.value, "num_classes": dataset.num_classes,
                    "sample_range": dataset.sample.range,
                    "normalizations": [n.model_dump() for n in dataset.normalizations],
                    "max_models": 32}
    for name, array in arrays.items():
        np.save(job.data / f"{name}.npy", np.ascontiguousarray(array))
        config[name] = job.seen(job.data / f"{name}.npy")
    return config, torchvision


def _provide_loaders(dataset: DatasetSpec, job: JobDir, data_dir: Path | None) -> dict:
    """The public split where the dataset file says framework loaders look for it."""
    if dataset.format is not Format.idx:
        return {}
    public = public_cache(dataset, data_dir)
    found: dict = {}
    if dataset.loaders.keras:
        _copy_tree(keras_dir(public, dataset), keras_dir(job.home, dataset))
    if dataset.loaders.torchvision:
        raw = torchvision_raw_dir(job.data / "torchvision", dataset)
        _copy_tree(torchvision_raw_dir(public, dataset), raw)
        found[dataset.torchvision_folder] = job.seen(raw)
    return found


def _copy_tree(source: Path, dest: Path) -> None:
    """Copy, never hard-link: a student writing to a linked file would corrupt the cache."""
    shutil.copytree(source, dest, dirs_exist_ok=True)
