"""What the in-sandbox probe reports, as the host reads it.

Everything here was written by a process that ran student code, so it is
parsed as untrusted data: sizes are bounded, unknown fields are rejected and
arrays are loaded without pickle. Scoring code only ever sees these models.
"""

from __future__ import annotations

import math
import os
import stat
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import numpy as np
from numpy.lib import format as npy_format
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runner.notebook import MAX_CODE_CELLS

MEASUREMENTS_FILE = "measurements.json"
RUN_FILE = "run.json"
CELLS_FILE = "cells.jsonl"  # the agent's CELLS_FILE: one CellEvent per line, appended
MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_LINE_BYTES = 16 * 1024
MAX_CELL_EVENTS = 2 * MAX_CODE_CELLS  # "running", then the outcome, for each code cell
MAX_DIMENSIONS = 8
_NPY_HEADER_READERS = {(1, 0): npy_format.read_array_header_1_0,
                       (2, 0): npy_format.read_array_header_2_0}
# What numpy's .npy reader raises on junk: its header is a Python literal it evaluates.
_NPY_ERRORS = (OSError, EOFError, ValueError, SyntaxError, TypeError, KeyError, OverflowError,
               MemoryError, RecursionError)
MAX_MODELS = 64
MAX_LAYERS = 512


ShortText = Annotated[str, Field(max_length=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NoteValue = ShortText | int | float | bool | None


class ProbeNote(_Strict):
    """A note the probe wrote: only ``note.probe.…``/``note.compat.…`` ids, plain values.

    Written inside the student's kernel, so it is data to be rendered, never trusted:
    an id the catalogue lacks is shown as the id and its values.
    """

    id: str = Field(pattern=r"^note\.(probe|compat)\.[a-z0-9_]+$", max_length=80)
    params: dict[Annotated[str, Field(max_length=40)], NoteValue] = Field(
        default_factory=dict, max_length=10)


class LayerKind(StrEnum):
    """Framework-neutral role of a layer; enough to check an architecture."""

    conv = "conv"
    pool = "pool"
    dense = "dense"
    recurrent = "recurrent"
    dropout = "dropout"
    norm = "norm"
    activation = "activation"
    flatten = "flatten"
    embedding = "embedding"
    upsample = "upsample"  # UpSampling2D, nn.Upsample, transposed convolutions, Resize
    merge = "merge"  # Concatenate, Add, torch.cat: where a skip connection joins
    other = "other"


class Layer(_Strict):
    """One layer in execution order."""

    kind: LayerKind
    type: str = Field(max_length=200, description="Framework class or function, e.g. Conv2D.")
    name: str = Field(default="", max_length=200)
    channels: int | None = Field(default=None, ge=0, description="Output channels or units.")
    kernel_size: list[int] | None = Field(default=None, max_length=4)
    stride: list[int] | None = Field(default=None, max_length=4)
    params: int = Field(default=0, ge=0)
    output_shape: list[int | None] | None = Field(default=None, max_length=8)
    activation: str | None = Field(default=None, max_length=60,
                                   description="Activation built into the layer (Keras).")


Channels = float | Annotated[list[float], Field(max_length=4096)]


class InputFormat(_Strict):
    """How the probe fed raw inputs to a model: x' = scale * x + shift, then laid out."""

    shape: list[int] = Field(max_length=4, description="Per-sample shape, e.g. [1, 28, 28].")
    transpose: list[int] | None = Field(default=None, max_length=3,
                                        description="Axis order applied before the reshape.")
    scale: Channels = Field(description="One number, or one per channel or feature.")
    shift: Channels
    source: str = Field(max_length=40, description="'training-data', 'calibrated' or "
                        "'default'.")
    lag: int = Field(default=0, ge=0, le=100_000, description="A forecast's differencing: "
                     "the model sees differences to the value this many steps earlier.")
    decision: str = Field(default="argmax", max_length=120,
                          description="How outputs were read: argmax or a threshold for "
                          "class ids; the window and differencing of a forecast.")
    threshold: float | None = Field(default=None, description="Class ids were read by "
                                    "this threshold on one output (``decision`` says so "
                                    "in words).")
    window: int | None = Field(default=None, ge=1, le=100_000, description="A forecast's "
                               "window: the last values each step is fed.")


SampleShape = Annotated[list[int | None], Field(max_length=4)]
"""A tensor's shape without its batch axis; None where a dimension is free."""


class ModelPart(_Strict):
    """A model inside a trained model (a VAE's encoder), with what goes in and out of it."""

    name: ShortText = Field(description="The attribute or layer name it is held under.")
    class_name: str = Field(max_length=200)
    params: int = Field(ge=0)
    inputs: list[SampleShape] = Field(default_factory=list, max_length=4)
    outputs: list[SampleShape] = Field(default_factory=list, max_length=4)


class PartGraph(_Strict):
    """One part of a generative model exported as a graph of its own (generation tasks)."""

    name: ShortText = Field(description="'' for the trained model itself; else the "
                            "attribute, layer or method (encode, decode) it was found as.")
    graph: str | None = Field(default=None, max_length=200,
                              pattern=r"^graphs/model_[0-9]+_[0-9]+\.onnx$")
    graph_error: str | None = Field(default=None, max_length=1000)
    reference_outputs: str | None = Field(
        default=None, max_length=200, pattern=r"^graphs/model_[0-9]+_[0-9]+_reference\.npy$")
    export_seconds: float | None = Field(default=None, ge=0)
    input: SampleShape = Field(default_factory=list, description="The per-sample shape it "
                               "was exported with: how images (or noise) are laid out for it.")


class MeasuredModel(_Strict):
    """A model the notebook trained, measured after its last cell."""

    index: int = Field(ge=0, description="Order in which training of this model first began.")
    framework: str = Field(max_length=20)
    class_name: str = Field(max_length=200)
    names: list[ShortText] = Field(default_factory=list, max_length=20,
                             description="Notebook variables bound to it at the end.")
    params: int = Field(ge=0)
    layers: list[Layer] = Field(max_length=MAX_LAYERS)
    input: InputFormat | None = None
    calibration_accuracy: float | None = Field(
        default=None, ge=0, le=1,
        description="Accuracy on the public held-out sample used to choose the input format.")
    calibration_metrics: dict[Annotated[str, Field(max_length=40)], float] = Field(
        default_factory=dict, max_length=8,
        description="On the public sample the input format was chosen with: accuracy, or "
                    "the RMSE of one-step forecasts of the history.")
    predictions: str | None = Field(
        default=None, max_length=200,
        description="Relative .npy path: the predicted class per evaluation input, or the "
                    "forecast values.")
    perturbed_predictions: str | None = Field(
        default=None, max_length=200,
        description="Relative .npy path: the predicted class per input of the perturbed copy.")
    error: str | None = Field(default=None, max_length=2000,
                              description="Why the model could not be measured.")
    graph: str | None = Field(
        default=None, max_length=200, pattern=r"^graphs/model_[0-9]+\.onnx$",
        description="Relative path of the model exported to ONNX after the last cell.")
    graph_error: str | None = Field(default=None, max_length=1000,
                                    description="Why the model could not be exported.")
    reference_outputs: str | None = Field(
        default=None, max_length=200, pattern=r"^graphs/model_[0-9]+_reference\.npy$",
        description="Relative .npy path: the model's outputs, in the kernel, on the public "
                    "inputs its graph is checked against.")
    export_seconds: float | None = Field(default=None, ge=0)
    inputs: list[SampleShape] = Field(
        default_factory=list, max_length=4,
        description="Per-sample input shapes the model declares (Keras) or its first weight "
                    "layer takes (PyTorch).")
    outputs: list[SampleShape] = Field(default_factory=list, max_length=4)
    parts: list[ModelPart] = Field(
        default_factory=list, max_length=16,
        description="Models held inside it: a VAE's encoder and decoder, a GAN's two nets.")
    graphs: list[PartGraph] = Field(
        default_factory=list, max_length=16,
        description="Generation tasks: the model and its parts, each exported apart.")


class FunctionValues(_Strict):
    """Values of a named notebook function on the grader's arguments."""

    name: str = Field(max_length=100)
    values: str | None = Field(default=None, max_length=200, description="Relative .npy path.")
    autograd_calls: int = Field(default=0, ge=0,
                                description="Backward passes started while it ran.")
    error: str | None = Field(default=None, max_length=2000)


class SavedImageRecord(_Strict):
    """An image the notebook saved, copied into the output folder for the report."""

    name: ShortText = Field(description="Its path in the notebook's working folder.")
    file: str = Field(max_length=200, pattern=r"^saved/image_[0-9]\.(png|jpg|jpeg)$")


class Measurements(_Strict):
    """Root of measurements.json."""

    schema_version: int = Field(default=1, alias="schema")
    models: list[MeasuredModel] = Field(default_factory=list, max_length=MAX_MODELS)
    functions: list[FunctionValues] = Field(default_factory=list, max_length=64)
    notes: list[ProbeNote] = Field(default_factory=list, max_length=50)
    loaders: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=32,
        description="Framework dataset loaders the notebook called: keras:cifar10, "
                    "torchvision:FashionMNIST.")
    saved_images: list[SavedImageRecord] = Field(
        default_factory=list, max_length=8,
        description="Images the notebook wrote while it ran (when the spec asks for one).")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


M = TypeVar("M", bound=BaseModel)


def read_json_model(path: Path, model: type[M]) -> M:
    """Parse a JSON file written in the sandbox, refusing links and oversized files.

    pydantic's parser stops at 200 levels of nesting with a ValidationError, so
    deep nesting is refused like any other malformed file.
    """
    return model.model_validate_json(_read_regular(path, MAX_JSON_BYTES))


def read_json_lines(path: Path, model: type[M], *, max_lines: int) -> list[M]:
    """Parse a JSON-lines log written in the sandbox; a missing file is an empty log.

    A last line without its newline is a write cut short by a kill, and is
    dropped; any other bad line rejects the whole log.
    """
    if not path.exists() and not path.is_symlink():
        return []
    lines = _read_regular(path, MAX_JSON_BYTES).split(b"\n")[:-1]
    if len(lines) > max_lines:
        raise ValueError(f"{path.name} has {len(lines)} lines, over the {max_lines} limit")
    records = []
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_BYTES:
            raise ValueError(f"{path.name} line {number} is {len(line)} bytes, over the "
                             f"{MAX_LINE_BYTES} limit")
        try:
            records.append(model.model_validate_json(line))
        except ValidationError as error:
            raise ValueError(f"{path.name} line {number}: {first_problem(error)}") from None
    return records


def first_problem(error: ValidationError) -> str:
    """One line for a note: where the first problem is, and what it is."""
    problem = error.errors()[0]
    where = ".".join(map(str, problem["loc"]))
    return f"{where}: {problem['msg']}" if where else problem["msg"]


def _read_regular(path: Path, limit: int) -> bytes:
    """At most ``limit`` bytes of a regular file, never through a link."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        raise ValueError(f"{path.name} is not a regular file") from None
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        if status.st_size > limit:
            raise ValueError(f"{path.name} is {status.st_size} bytes, over the {limit} limit")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} grew over the {limit} byte limit while it was read")
    return data


def file_inside(root: Path, relative: str) -> Path:
    """``root/relative`` resolved, when it is a regular file inside ``root`` reached without
    a link; else ValueError. Every file a sandbox wrote is opened through this."""
    given = root / relative
    path = given.resolve()
    if given.is_symlink() or not path.is_relative_to(root.resolve()) or not path.is_file():
        raise ValueError(f"{relative!r} is not a file inside the output folder")
    return path


def load_array(root: Path, relative: str, *, max_items: int) -> np.ndarray:
    """Load a sandbox-written .npy that must stay inside ``root``; never unpickles.

    The header is checked before any data is read, so a forged shape cannot make
    the host allocate memory, and only plain numbers (bool, int, float) pass:
    object arrays would need pickle, records and strings break scoring's maths.
    Any other problem with the file is a ValueError saying what it is.
    """
    path = file_inside(root, relative)
    try:
        with path.open("rb") as handle:
            version = npy_format.read_magic(handle)
            if version not in _NPY_HEADER_READERS:
                raise ValueError(f"version {version}; only 1.0 and 2.0 are read")
            shape, _fortran_order, dtype = _NPY_HEADER_READERS[version](handle)
            data_bytes = os.fstat(handle.fileno()).st_size - handle.tell()
    except _NPY_ERRORS as error:
        raise ValueError(f"{relative!r} is not a readable .npy file: "
                         f"{type(error).__name__}: {error}"[:300]) from None
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"{relative!r} holds {dtype} values (which need pickle or are not "
                         "numbers); expected plain integers or floats")
    if len(shape) > MAX_DIMENSIONS or any(n < 0 for n in shape):
        raise ValueError(f"{relative!r} has shape {list(shape)[:MAX_DIMENSIONS + 1]}")
    count = math.prod(shape)
    if count > max_items:
        raise ValueError(f"{relative!r} holds {count} values, over the {max_items} limit")
    if data_bytes != count * dtype.itemsize:
        raise ValueError(f"{relative!r} holds {data_bytes} bytes of data, not the "
                         f"{count * dtype.itemsize} its header declares (truncated or padded)")
    try:
        with path.open("rb") as handle:
            return npy_format.read_array(handle, allow_pickle=False)
    except _NPY_ERRORS as error:
        raise ValueError(f"{relative!r} is not a readable .npy file: "
                         f"{type(error).__name__}: {error}"[:300]) from None


class CellRecord(_Strict):
    index: int = Field(ge=0)
    status: str = Field(pattern=r"^(ok|error|timeout|kernel-died|killed|skipped)$")
    seconds: float | None = None
    error: str | None = Field(default=None, max_length=2000)
    limit_seconds: int | None = Field(default=None, ge=0, le=10**7,
                                      description="The limit a timed-out cell ran past.")


class CellEvent(CellRecord):
    """One line of the agent's cell log: a cell starting ("running") or its outcome."""

    status: str = Field(pattern=r"^(running|ok|error|timeout|kernel-died|skipped)$")


class RunSummary(_Strict):
    """Root of run.json: how the run as a whole ended; the cells are in the cell log."""

    stopped: str | None = Field(default=None, max_length=500, description="Why the agent "
                                "stopped early: a code (total_time), else its own words.")
    probe_finished: bool = False
    probe_error: str | None = Field(default=None, max_length=2000)
    probe_kernel_died: bool = Field(False, description="The kernel died while the models "
                                    "were measured.")
    seconds: float = 0.0


class RunRecord(_Strict):
    """What happened to each code cell, as the host assembles it from run.json and the log."""

    cells: list[CellRecord] = Field(default_factory=list, max_length=MAX_CODE_CELLS)
    running: int | None = Field(default=None, ge=0, description="Cell executing when it ended.")
    stopped: str | None = Field(default=None, max_length=500)
    probe_finished: bool = False
    probe_error: str | None = Field(default=None, max_length=2000)
    probe_kernel_died: bool = False
    seconds: float = 0.0


class ProgressEvent(BaseModel):
    """One line of the agent's progress file, as the host's display may use it."""

    model_config = ConfigDict(frozen=True)  # extra fields (time, ...) are ignored

    event: str = Field(max_length=40)
    cells: int | None = Field(default=None, ge=0)
    index: int | None = Field(default=None, ge=0)
    position: int | None = Field(default=None, ge=0)
