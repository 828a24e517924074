"""The assignment spec (`assignments/<id>/assignment.yaml`) as pydantic models.

Every setting is declared once here with its default and what it does; the
loader in :mod:`runner.assignments` turns validation errors into messages that
name the file, the field and the line.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Framework(StrEnum):
    pytorch = "pytorch"
    keras = "keras"


class GpuPolicy(StrEnum):
    never = "never"  # the sandbox sees no GPU even if the host has one
    optional = "optional"  # a GPU is given when the host has one free
    required = "required"  # grading refuses on a host without a GPU


class Limits(_Spec):
    """Resource limits for one submission; the sandbox enforces them."""

    total_seconds: int = Field(1800, gt=0, description="Wall clock for the whole notebook; "
                               "the sandbox is killed when it runs out.")
    cell_seconds: int = Field(900, gt=0, description="Per cell; at most total_seconds.")
    memory_mb: int = Field(8192, ge=256, description="Resident memory of the whole sandbox.")
    output_kb: int = Field(1024, ge=16, description="Captured cell output kept in the "
                           "executed notebook; the rest is dropped with a note.")
    processes: int = Field(512, ge=16, description="Processes and threads in the sandbox.")
    disk_mb: int = Field(2048, ge=64, description="Space the notebook may write (its working "
                         "folder, HOME and outputs); the Docker backend enforces it.")
    cpus: float | None = Field(None, gt=0, description="CPU cores the container may use "
                               "(default: all); the Docker backend enforces it.")

    @model_validator(mode="after")
    def _cell_within_total(self) -> Limits:
        if self.cell_seconds > self.total_seconds:
            raise ValueError(f"cell_seconds ({self.cell_seconds}) exceeds total_seconds "
                             f"({self.total_seconds})")
        return self


class CollectModels(_Spec):
    """Measure every trained model on a dataset's images."""

    dataset: str = Field(description="Name in the dataset registry, e.g. fashion_mnist.")
    calibration_size: int = Field(2000, ge=100, le=10000, description="Public held-out images "
                                  "used to find each model's input scaling and layout.")
    clean_room: bool = Field(True, description="Score models on what their exported "
                             "graphs compute in a second sandbox that never ran student code, "
                             "and read their architecture from the graph.")
    task: Literal["generation"] | None = Field(
        None, description="What the models do with the dataset's images, when it is not the "
        "dataset's own task: generation (a VAE's decoder, a GAN's generator) is scored on "
        "samples and reconstructions the clean room computes.")
    samples: int = Field(2000, ge=100, le=10000, description="Generation: images drawn "
                         "from each generator, and hidden images they are compared with.")

    @model_validator(mode="after")
    def _generation_in_clean_room(self) -> CollectModels:
        if self.task == "generation" and not self.clean_room:
            raise ValueError("generation is scored only in the clean room: the hidden images "
                             "never enter the notebook's sandbox; set clean_room: true")
        return self


class Arguments(_Spec):
    """Points a function is evaluated at: uniform in [low, high], fresh each grading run."""

    low: float
    high: float
    count: int = Field(64, ge=1, le=100_000)

    @model_validator(mode="after")
    def _ordered(self) -> Arguments:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class CollectFunction(_Spec):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Notebook function name.")
    arguments: Arguments


class Collect(_Spec):
    """What the in-sandbox probe gathers after the student's cells."""

    models: CollectModels | None = None
    functions: list[CollectFunction] = Field(default_factory=list)


LocalText = str | dict[str, str]
"""A text in one language, or one per language: ``{ru: …, en: …}``."""


def local_text(text: LocalText, language: str) -> str:
    """``text`` in ``language``; else in English; else in the first language it has."""
    if isinstance(text, str):
        return text
    return text.get(language) or text.get("en") or next(iter(text.values()))


def _texts(text: LocalText) -> LocalText:
    if isinstance(text, dict) and (not text or not all(text.values())):
        raise ValueError("a title per language needs at least one language and no empty text")
    return text


class CheckSpec(_Spec):
    """One scored check; ``params`` are validated by the check kind's own model."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: LocalText = Field(description="What the check checks; one text, or one per "
                             "language ({ru: …, en: …}).")
    kind: str
    points: float = Field(gt=0)
    public: bool = Field(True, description="Shown and scored in `nngrade check` (student mode).")
    params: dict[str, Any] = Field(default_factory=dict)


class RubricLevel(_Spec):
    """One level of a written answer's scale: what it takes, and the points it earns."""

    points: float = Field(ge=0)
    title: LocalText = Field(description="What an answer at this level does.")


class AnswerPlace(_Spec):
    """Where a student writes a written answer. Every place is tried, in this order:
    cells tagged ``tag``; a heading (any level), a bold line or a line of its own that
    contains one of ``headings``; the question's own wording. The text that follows,
    up to the next heading, is the answer."""

    tag: str | None = Field(None, description="A Jupyter cell tag (default: the item's id).")
    headings: list[str] = Field(default_factory=list, description="Heading texts, any "
                                "language, matched without case, markup or punctuation.")


class RubricItem(_Spec):
    """A written answer, graded by the instructor in `nngrade review`."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: LocalText
    points: float = Field(gt=0)
    question: LocalText = Field(description="The question as the task text asks it.")
    answer: AnswerPlace = AnswerPlace()
    levels: list[RubricLevel] = Field(default_factory=list, description="The scale, best "
                                      "first; without one the instructor enters points.")
    context_cells: int = Field(2, ge=0, le=10, description="Code cells with output before "
                               "the answer shown beside it, when the answer has none itself.")

    @model_validator(mode="after")
    def _levels_within_points(self) -> RubricItem:
        for level in self.levels:
            _texts(level.title)
            if level.points > self.points:
                raise ValueError(f"a level of {self.id!r} gives {level.points:g} points, "
                                 f"more than the item's {self.points:g}")
        return self


class AssignmentSpec(_Spec):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: LocalText
    language: str = Field("en", pattern=r"^[a-z]{2}$", description="The language the course "
                          "is taught in: reports are written in it, unless --lang or "
                          "$NNGRADE_LANG says otherwise.")
    course: str = Field(description="Where the task comes from: course and lesson.")
    task: str = Field("README.md", description="Task text students read, next to the spec.")
    frameworks: list[Framework] = Field(min_length=1)
    gpu: GpuPolicy = GpuPolicy.optional
    limits: Limits = Limits()
    collect: Collect = Collect()
    compat: bool = Field(True, description="Serve notebooks written for older NumPy and Keras "
                         "2 what those removed (np.float, keras.layers.core, lr=, "
                         "fit_generator, ...); each use is listed in the report's notes.")
    checks: list[CheckSpec] = Field(min_length=1)
    rubric: list[RubricItem] = Field(default_factory=list, description="Written answers the "
                                     "instructor grades by hand (`nngrade review`).")
    offered_datasets: list[str] = Field(
        default_factory=list, description="Datasets notebooks may load for their own "
        "experiments besides the graded one (datasets/<name>.yaml, format tfds_prepared), "
        "whole: never one the assignment grades on.")

    @model_validator(mode="after")
    def _titles(self) -> AssignmentSpec:
        _texts(self.title)
        for item in [*self.checks, *self.rubric]:
            _texts(item.title)
        return self

    @model_validator(mode="after")
    def _unique_check_ids(self) -> AssignmentSpec:
        seen: set[str] = set()
        for item in [*self.checks, *self.rubric]:
            if item.id in seen:
                raise ValueError(f"check id {item.id!r} is used twice")
            seen.add(item.id)
        return self

    @model_validator(mode="after")
    def _offered_not_graded(self) -> AssignmentSpec:
        graded = self.collect.models.dataset if self.collect.models else None
        if graded in self.offered_datasets:
            raise ValueError(f"dataset {graded!r} is graded on, so it cannot also be offered "
                             "whole in offered_datasets")
        return self

    @property
    def max_score(self) -> float:
        """Points the automatic checks give."""
        return sum(check.points for check in self.checks)

    @property
    def manual_max_score(self) -> float:
        """Points the instructor gives for written answers."""
        return sum(item.points for item in self.rubric)
