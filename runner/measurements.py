"""What the in-sandbox probe reports, as the host reads it.

Everything here was written by a process that ran student code, so it is
parsed as untrusted data: sizes are bounded, unknown fields are rejected and
arrays are loaded without pickle. Scoring code only ever sees these models.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

MEASUREMENTS_FILE = "measurements.json"
RUN_FILE = "run.json"
MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_MODELS = 64
MAX_LAYERS = 512


ShortText = Annotated[str, Field(max_length=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class InputFormat(_Strict):
    """How the probe fed raw inputs to a model: x' = scale * x + shift, then reshape."""

    shape: list[int] = Field(max_length=4, description="Per-sample shape, e.g. [1, 28, 28].")
    scale: float
    shift: float
    source: str = Field(max_length=40, description="'training-data' or 'calibrated'.")


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
    predictions: str | None = Field(
        default=None, max_length=200,
        description="Relative .npy path: predicted class per evaluation input.")
    error: str | None = Field(default=None, max_length=2000,
                              description="Why the model could not be measured.")


class FunctionValues(_Strict):
    """Values of a named notebook function on the grader's arguments."""

    name: str = Field(max_length=100)
    values: str | None = Field(default=None, max_length=200, description="Relative .npy path.")
    autograd_calls: int = Field(default=0, ge=0,
                                description="Backward passes started while it ran.")
    error: str | None = Field(default=None, max_length=2000)


class Measurements(_Strict):
    """Root of measurements.json."""

    schema_version: int = Field(default=1, alias="schema")
    models: list[MeasuredModel] = Field(default_factory=list, max_length=MAX_MODELS)
    functions: list[FunctionValues] = Field(default_factory=list, max_length=64)
    notes: list[ShortText] = Field(default_factory=list, max_length=50)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


M = TypeVar("M", bound=BaseModel)


def read_json_model(path: Path, model: type[M]) -> M:
    """Parse a JSON file written in the sandbox, refusing links and oversized files."""
    if path.is_symlink() or not path.is_file():
        raise ValueError(f"{path.name} is not a regular file")
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise ValueError(f"{path.name} is {size} bytes, over the {MAX_JSON_BYTES} limit")
    return model.model_validate_json(path.read_bytes())


def load_array(root: Path, relative: str, *, max_items: int) -> np.ndarray:
    """Load a sandbox-written .npy that must stay inside ``root``; never unpickles."""
    given = root / relative
    path = given.resolve()
    if given.is_symlink() or not path.is_relative_to(root.resolve()) or not path.is_file():
        raise ValueError(f"{relative!r} is not a file inside the output folder")
    array = np.load(path, allow_pickle=False, mmap_mode=None)
    if array.size > max_items:
        raise ValueError(f"{relative!r} holds {array.size} values, over the {max_items} limit")
    return array


class CellRecord(_Strict):
    index: int = Field(ge=0)
    status: str = Field(pattern=r"^(ok|error|timeout|kernel-died|killed|skipped)$")
    seconds: float | None = None
    error: str | None = Field(default=None, max_length=2000)


class RunRecord(_Strict):
    """Root of run.json: what happened to each code cell, written after every cell."""

    cells: list[CellRecord] = Field(default_factory=list, max_length=10_000)
    running: int | None = Field(default=None, ge=0, description="Cell executing right now.")
    stopped: str | None = Field(default=None, max_length=500)
    probe_finished: bool = False
    probe_error: str | None = Field(default=None, max_length=2000)
    seconds: float = 0.0
