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

from runner.baselines import forecasts
from runner.datasets import (
    DatasetSpec,
    batches_dir,
    get_spec,
    keras_dir,
    public_cache,
    torchvision_raw_dir,
)
from runner.datasets.drawn_files import copy_drawn
from runner.datasets.errors import DatasetError, DatasetNotFound
from runner.datasets.evaluation import EvaluationSets, evaluation_sets, perturbed_copy
from runner.datasets.layouts import read_public_part
from runner.datasets.registry import Format, Task
from runner.datasets.series import csv_text, load_series, public_part
from runner.datasets.tfds_prepared import find_prepared
from runner.i18n.message import Message, msg
from runner.report.image_grid import SHOWN_IMAGES
from runner.report.model import Mode
from runner.sandbox.job import JobDir
from runner.spec import AssignmentSpec, CollectModels

CHECK_MODE_SEED = 0
RECONSTRUCTED = 1000
"""Hidden images a generation task's encoder and decoder reconstruct."""


@dataclass
class Truth:
    """What scoring compares the sandbox's output with; never written into the job."""

    labels: np.ndarray | None = None  # class ids, or the values a forecast should give
    task: str = "classification"
    evaluation_set: Message = field(default_factory=lambda: msg("evaluation.none"))
    arguments: dict[str, np.ndarray] = field(default_factory=dict)
    perturbed_labels: np.ndarray | None = None  # of the perturbed copy of the inputs
    perturbation: Message | None = None  # what the copy's noise is, in words
    baselines: dict[str, np.ndarray] = field(default_factory=dict)  # forecasts without a model
    history: np.ndarray | None = None  # what a forecast starts from
    pixels: tuple[int, int] | None = None  # a mask's height and width, for segmentation
    shown_inputs: np.ndarray | None = None  # the first evaluation inputs, for a report's grid
    image_size: int | None = None  # values in one image (None: the samples are not images)
    num_classes: int | None = None
    generation: GenerationTruth | None = None  # what generators are compared with
    notes: list[Message] = field(default_factory=list)  # for the report, e.g. data missing


@dataclass
class GenerationTruth:
    """What a generation task's samples and reconstructions are judged against.

    The hidden images reach only the clean room, after the notebook's sandbox is gone;
    the public training images are what a memorising generator would copy.
    """

    dataset: str
    hidden: np.ndarray  # (n, H, W) as the dataset stores them
    training: np.ndarray  # the public training images
    image_shape: tuple[int, ...]
    samples: int  # drawn from each generator
    seed: int  # of the latent noise, drawn afresh each grading run


def provision(spec: AssignmentSpec, job: JobDir, mode: Mode,
              data_dir: Path | None = None) -> tuple[dict, Truth]:
    """Fill ``job`` for ``spec``; return the probe configuration and the host-side truth."""
    rng = np.random.default_rng(CHECK_MODE_SEED if mode is Mode.check else secrets.randbits(64))
    probe: dict = {"compat": spec.compat,
                   "saved_images": any(c.kind == "saved_image" for c in spec.checks)}
    truth = Truth()
    if spec.collect.models is not None:
        probe["models"], loaders = _models(spec, job, mode, data_dir, rng, truth)
        probe.update(loaders)
    probe.update(_offer(spec, job, data_dir, truth))
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
    if len(dataset.sample.shape) >= 2:
        truth.image_size = int(np.prod(dataset.sample.shape))
    truth.num_classes = len(dataset.classes) or None
    loaders = _provide_loaders(dataset, job, data_dir)
    if collect.task == "generation":
        return _generation(collect, dataset, sets, job, mode, rng, truth, data_dir), loaders
    config: dict = {"task": dataset.task.value, "max_models": 32}
    if dataset.task is Task.forecasting:
        period = dataset.series.period if dataset.series else None
        truth.baselines = forecasts(sets.eval_x, len(sets.eval_y), period)
        truth.history = sets.eval_x
        config["horizon"] = len(sets.eval_y)
        config["period"] = period
        arrays = {"history": sets.eval_x}
    else:
        config.update({"num_classes": dataset.num_classes, "sample_range": dataset.sample.range,
                       "normalizations": [n.model_dump() for n in dataset.normalizations]})
        if dataset.task is Task.segmentation:
            truth.pixels = (int(dataset.sample.shape[0]), int(dataset.sample.shape[1]))
            truth.shown_inputs = sets.eval_x[:SHOWN_IMAGES]
            config["pixels"] = list(truth.pixels)
        arrays = {"eval_inputs": sets.eval_x, "calibration_inputs": sets.calibration_x,
                  "calibration_labels": sets.calibration_y}
        perturbed = perturbed_copy(dataset, sets.eval_x, sets.eval_y, rng)
        if perturbed is not None and dataset.perturbation is not None:
            arrays["perturbed_inputs"], truth.perturbed_labels = perturbed
            truth.perturbation = msg("evaluation.perturbation",
                                     noise=float(dataset.perturbation.noise))
    for name, array in arrays.items():
        if array is None:
            continue
        np.save(job.data / f"{name}.npy", np.ascontiguousarray(array))
        config[name] = job.seen(job.data / f"{name}.npy")
    return config, loaders


def _generation(collect: CollectModels, dataset: DatasetSpec, sets: EvaluationSets,
                job: JobDir, mode: Mode, rng: np.random.Generator, truth: Truth,
                data_dir: Path | None) -> dict:
    """The probe gets public images to export the parts with; the hidden ones stay here
    until the clean room (runner/cleanroom.py) compares the parts' outputs with them."""
    hidden = sets.eval_x[:max(collect.samples, RECONSTRUCTED)]
    training, _ = read_public_part(public_cache(dataset, data_dir), dataset, "train")
    truth.task, truth.labels = "generation", None
    truth.generation = GenerationTruth(
        dataset.name, hidden, training, tuple(dataset.sample.shape), collect.samples,
        CHECK_MODE_SEED if mode is Mode.check else int(rng.integers(2**31)))
    truth.evaluation_set = msg("evaluation.generation",
                               samples=msg("unit.sample", n=collect.samples),
                               images=msg("unit.image", n=min(RECONSTRUCTED, len(hidden))),
                               set=sets.description)
    path = job.data / "calibration_inputs.npy"
    np.save(path, np.ascontiguousarray(sets.calibration_x))
    return {"task": "generation", "max_models": 32, "calibration_inputs": job.seen(path),
            "image_shape": list(dataset.sample.shape)}


def _provide_loaders(dataset: DatasetSpec, job: JobDir, data_dir: Path | None) -> dict:
    """The public split where the dataset file says notebooks and loaders look for it.

    Returns what the probe needs to serve it elsewhere too: torchvision's raw folders,
    and the public files by name (for Drive paths and URLs of the same file).
    """
    found: dict = {}
    if dataset.format is Format.csv_series:
        public = public_part(dataset, load_series(dataset, data_dir))
        files = {}
        for form in dataset.loaders.files:
            path = job.work / form.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(csv_text(public, form), encoding="utf-8")
            files.setdefault(form.basename, job.seen(path))
        return {"public_files": files} if files else {}
    if dataset.format is Format.cifar_batches:
        return _provide_batches(dataset, job, data_dir)
    if dataset.format is Format.generator and dataset.loaders.drawn is not None:
        return _provide_drawn(dataset, job)
    if dataset.format is not Format.idx:
        return {}
    public = public_cache(dataset, data_dir)
    if dataset.loaders.keras:
        _copy_tree(keras_dir(public, dataset), keras_dir(job.home, dataset))
    raw = torchvision_raw_dir(job.data / "torchvision", dataset)
    _copy_tree(torchvision_raw_dir(public, dataset), raw)
    if dataset.loaders.torchvision:
        found[dataset.torchvision_folder] = job.seen(raw)
    tables = {table.name: {
        "images": job.seen(raw / dataset.files[f"{table.part}_images"].name),
        "labels": job.seen(raw / dataset.files[f"{table.part}_labels"].name)}
        for table in dataset.loaders.tables}
    return {"torchvision_raw": found, **({"public_tables": tables} if tables else {})}


def _provide_batches(dataset: DatasetSpec, job: JobDir, data_dir: Path | None) -> dict:
    """CIFAR-style batches in one folder; the probe serves torchvision and keras from it."""
    batches = dataset.batches
    assert batches is not None
    folder = batches_dir(job.data / "torchvision", dataset)
    _copy_tree(batches_dir(public_cache(dataset, data_dir), dataset), folder)
    names = {role: file.name for role, file in dataset.files.items()}
    served = {"folder": job.seen(folder), "shape": list(dataset.sample.shape),
              "train": [names[r] for r in batches.train], "test": [names[r] for r in batches.test],
              "meta": names[batches.meta], "label_key": batches.label_key}
    found: dict = {}
    if dataset.loaders.torchvision:
        found["torchvision_batches"] = {dataset.loaders.torchvision: served}
    if dataset.loaders.keras:
        found["keras_batches"] = {dataset.loaders.keras: served}
    return found


def _provide_drawn(dataset: DatasetSpec, job: JobDir) -> dict:
    """A generated dataset's public sample in the working folder; its arrays file is also
    served by name wherever a notebook looks for it (a Drive path, ``/content``)."""
    copy_drawn(dataset, job.work)
    npz = dataset.loaders.drawn.npz if dataset.loaders.drawn else None
    return {"public_files": {npz: job.seen(job.work / npz)}} if npz else {}


def _offer(spec: AssignmentSpec, job: JobDir, data_dir: Path | None, truth: Truth) -> dict:
    """The datasets notebooks may load besides the graded one, where their loaders look.

    Each prepared folder is shared with the sandbox read-only at its own path, never
    copied (the real Oxford-IIIT Pet is 800 MB); the probe makes tfds look there. One
    the grader does not have is a note, not a failure: only the notebooks that load it
    need it.
    """
    roots: dict[str, str] = {}
    for name in spec.offered_datasets:
        dataset = get_spec(name)
        if dataset.tfds is None:
            raise DatasetError(msg("error.offered.format", name=name, format=dataset.format.value),
                               hint=msg("error.offered.format.hint"))
        try:
            folder = job.share(find_prepared(dataset, data_dir))
        except DatasetNotFound as missing:
            truth.notes.append(msg("note.offered_missing", dataset=dataset.title,
                                   missing=missing.summary_detail))
            continue
        roots[dataset.tfds.name] = str(folder.parent.parent)  # <data_dir>/<name>/<version>
    return {"tfds_data_dirs": roots} if roots else {}


def _copy_tree(source: Path, dest: Path) -> None:
    """Copy, never hard-link: a student writing to a linked file would corrupt the cache."""
    shutil.copytree(source, dest, dirs_exist_ok=True)
