"""What a check sees: plain data measured in the sandbox, joined with hidden truth.

Built on the host by code that never ran student code; checks are pure
functions of it, which keeps them easy to test with hand-made contexts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from graders.architecture import Architecture
from runner.i18n.message import Message, msg
from runner.measurements import MeasuredModel

if TYPE_CHECKING:
    from graders.roles import Part


@dataclass(frozen=True)
class ScoredModel:
    """A measured model with its metrics on the evaluation set of this run."""

    measured: MeasuredModel
    architecture: Architecture
    accuracy: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    forecast: tuple[float, ...] | None = None  # forecasting models: the values forecast
    perturbed: dict[str, float] = field(default_factory=dict)  # on the perturbed copy
    graph: Architecture | None = None  # read from the model's exported ONNX graph
    graph_problem: Message | None = None  # why there is none: not exported, or refused
    evaluated_by: str = "kernel"  # "clean room": predictions computed from the graph
    reproducible: bool | None = None  # the graph computes what the kernel's model computed
    verified: bool = True  # False: the clean room was asked for and could not vouch for it
    error_detail: Message | str | None = None  # the host's finding, else the probe's error
    shown: np.ndarray | None = None  # the first predicted masks or samples, for a grid
    reconstructed: np.ndarray | None = None  # the first hidden images it rebuilt (generation)
    graph_parts: tuple[Part, ...] = ()  # roles its exported graphs play (generation)

    @property
    def error(self) -> Message | str | None:
        """Why the model has no metrics: what the host found, else what the probe said."""
        return self.error_detail if self.error_detail is not None else self.measured.error

    def metric(self, name: str) -> float | None:
        """The named metric on this run's evaluation set, or None if not measured."""
        if name in self.metrics:
            return self.metrics[name]
        return self.accuracy if name == "accuracy" else None

    @property
    def label(self) -> str:
        name = self.measured.names[0] if self.measured.names else self.measured.class_name
        return f"#{self.measured.index} {name}"


@dataclass(frozen=True)
class FunctionResult:
    """A notebook function evaluated at the grader's arguments."""

    name: str
    arguments: np.ndarray
    values: np.ndarray | None
    autograd_calls: int = 0
    error: Message | str | None = None


@dataclass(frozen=True)
class CellReport:
    index: int
    status: str
    error: Message | str | None = None  # the student's error as it is; nngrade's in words


@dataclass(frozen=True)
class GradingContext:
    mode: str
    cells: list[CellReport] = field(default_factory=list)
    stopped: Message | None = None  # why execution ended early
    models: list[ScoredModel] = field(default_factory=list)
    functions: dict[str, FunctionResult] = field(default_factory=dict)
    probe_ran: bool = True
    evaluation_set: Message = field(default_factory=lambda: msg("evaluation.none"))
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)
    """Metrics of the host's model-free forecasts (runner.baselines), by baseline name."""
    perturbation: Message | None = None  # the noise of the perturbed copy, in words
    image_size: int | None = None  # values in one of the task's images; None: no images
    num_classes: int | None = None  # of a classification or segmentation task
    saved_images: list[str] = field(default_factory=list)  # readable images it saved, by name
