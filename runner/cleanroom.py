"""Evaluate the exported graphs in a second sandbox that has never run student code.

The first sandbox ran the notebook and exported every trained model; everything it
wrote can be forged by the notebook. The clean room is a fresh job folder (a fresh
container, or a fresh namespace) holding only nngrade's package, the graphs, which the
host has read and size-checked first, and the inputs the host provisioned: the
predictions scored are the ones computed there. Its own output is parsed as strictly
as the first sandbox's.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from runner.generation_parts import Generative, generative
from runner.i18n.message import Message, msg
from runner.measurements import Measurements, read_json_model
from runner.onnx_graph import GraphRefused, exported_path
from runner.probe.export import REFERENCE_ROWS
from runner.provision import RECONSTRUCTED, GenerationTruth
from runner.sandbox.backends import Backend, RunRequest
from runner.sandbox.job import JobDir
from runner.spec import Limits

CLEANROOM_FILE = "cleanroom.json"
INPUTS = ("eval_inputs", "perturbed_inputs", "calibration_inputs", "history")
_PATH = r"^cleanroom/model_[0-9]+(_perturbed|_reference|_samples|_reconstructions)?\.npy$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CleanModel(_Strict):
    """What one graph computed in the clean room (relative .npy paths), or why it failed."""

    index: int = Field(ge=0)
    predictions: str | None = Field(default=None, max_length=200, pattern=_PATH)
    perturbed_predictions: str | None = Field(default=None, max_length=200, pattern=_PATH)
    reference_outputs: str | None = Field(default=None, max_length=200, pattern=_PATH)
    samples: str | None = Field(default=None, max_length=200, pattern=_PATH)
    reconstructions: str | None = Field(default=None, max_length=200, pattern=_PATH)
    seconds: float | None = Field(default=None, ge=0)
    error: str | None = Field(default=None, max_length=1000)


class CleanRoomRecord(_Strict):
    models: list[CleanModel] = Field(default_factory=list, max_length=64)


@dataclass
class CleanRoom:
    """The clean room's results by model index, the folder they are in, and its notes."""

    out: Path | None = None
    models: dict[int, CleanModel] = field(default_factory=dict)
    notes: list[Message] = field(default_factory=list)
    seconds: float = 0.0


def evaluate_graphs(backend: Backend, limits: Limits, gpus: list[str], first: JobDir,
                    measurements: Measurements, root: Path,
                    horizon: int | None = None, pixels: tuple[int, int] | None = None
                    ) -> CleanRoom:
    """Run every readable exported graph of ``measurements`` in a fresh job under ``root``:
    classifiers on the provisioned inputs (labelling each of a mask's ``pixels``, when
    given), or, given a ``horizon``, forecasters closed loop from the end of the public
    history."""
    job = replace(backend.job_dir(root), entry="cleanroom")
    models = []
    for model in measurements.models:
        if model.graph is None or model.input is None:
            continue
        try:  # parsed by the host afterwards; a graph it refuses is not scored anyway
            source = exported_path(first.out, model.graph)
        except GraphRefused:
            continue  # the first sandbox's report already says why
        graph = job.data / "graphs" / f"model_{model.index}.onnx"
        graph.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, graph)
        models.append({"index": model.index, "graph": job.seen(graph),
                       "input": model.input.model_dump(), "reference_rows": REFERENCE_ROWS})
    if not models:
        return CleanRoom()
    inputs = {}
    for name in INPUTS:
        source = first.data / f"{name}.npy"  # written by the host; read-only in the sandbox
        if source.is_file():
            shutil.copyfile(source, job.data / source.name)
            inputs[name] = job.seen(job.data / source.name)
    return _run(backend, limits, gpus, job, {
        "inputs": inputs, "models": models,
        **({"horizon": horizon} if horizon is not None else {}),
        **({"pixels": list(pixels)} if pixels is not None else {})})


def generate_in_clean_room(backend: Backend, limits: Limits, gpus: list[str], first: JobDir,
                           measurements: Measurements, root: Path, truth: GenerationTruth,
                           image_size: int) -> tuple[CleanRoom, dict[int, Generative]]:
    """Sample every model's decoder from the host's noise, and reconstruct hidden images
    through its encoder and decoder, in a fresh job under ``root``.

    The hidden images enter this job only: the notebook's sandbox has ended, and never
    held them. Returns the results and the parts found for each model.
    """
    job = replace(backend.job_dir(root), entry="cleanroom")
    found = {model.index: generative(first.out, model, image_size)
             for model in measurements.models}
    models = []
    for index, parts in found.items():
        if parts.decoder is None:
            continue
        entry = {"index": index}
        for role, part in (("decoder", parts.decoder), ("encoder", parts.encoder)):
            if part is None:
                continue
            graph = job.data / "graphs" / f"model_{index}_{role}.onnx"
            graph.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(exported_path(first.out, part.graph), graph)
            entry[role] = {"graph": job.seen(graph), "input": list(part.input)}
        models.append(entry)
    if not models:
        return CleanRoom(), found
    inputs = {}
    for name, array in (("calibration_inputs", None), ("hidden_images", truth.hidden)):
        path = job.data / f"{name}.npy"
        if array is None:
            shutil.copyfile(first.data / path.name, path)
        else:
            np.save(path, np.ascontiguousarray(array))
        inputs[name] = job.seen(path)
    return _run(backend, limits, gpus, job, {
        "inputs": inputs, "models": models,
        "generation": {"image_shape": list(truth.image_shape), "samples": truth.samples,
                       "seed": truth.seed, "reconstructed": RECONSTRUCTED}}), found


def _run(backend: Backend, limits: Limits, gpus: list[str], job: JobDir, plan: dict
         ) -> CleanRoom:
    """Run the clean room on ``plan`` (its inputs and models) and read what it wrote."""
    (job.root / "job.json").write_text(json.dumps({"out_dir": job.seen(job.out), **plan},
                                                  indent=1))
    started = time.perf_counter()
    result = backend.run(RunRequest(job, limits, gpus))
    seconds = time.perf_counter() - started
    notes = list(result.notes)
    try:
        record = read_json_model(job.out / CLEANROOM_FILE, CleanRoomRecord)
    except (OSError, ValueError) as error:
        notes.append(msg("note.clean_room.no_results", error=type(error).__name__,
                         output=result.output_tail.strip()[-500:] or msg("note.none")))
        return CleanRoom(job.out, {}, notes, seconds)
    return CleanRoom(job.out, {m.index: m for m in record.models}, notes, seconds)
