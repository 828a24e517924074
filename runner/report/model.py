"""The report schema: what `report.json` holds, versioned.

Bump ``REPORT_SCHEMA_VERSION`` on any change a reader would notice; older
readers then know to refuse the file instead of misreading it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from runner.i18n.message import Message
from runner.measurements import Layer

REPORT_SCHEMA_VERSION = 7
"""7: written answers found in the notebook (``answers``), for the instructor's review,
and which grader measured (``measured_by``), which may differ from the one that scored;
6: images the notebook saved (``saved_images``), redrawn by the host;
5: grids of images the grader drew (``grids``), e.g. hidden images and predicted masks;
4: models' details and why a run stopped as data; 3: the language and every message
also as data (id and parameters), to render again;
2: the task, metrics per model and baseline forecasts' metrics (1: accuracy only)."""


class Status(StrEnum):
    """How a grading run ended, independent of the score."""

    graded = "graded"  # every cell ran; the checks decided the score
    partial = "partial"  # execution stopped early (error, timeout, dead kernel); graded what exists
    failed = "failed"  # nothing could be measured (e.g. not a notebook)


class Mode(StrEnum):
    check = "check"  # student mode: public checks, public held-out split
    grade = "grade"  # instructor mode: all checks, hidden test set


class CheckOutcome(BaseModel):
    id: str
    title: str = Field(description="In the report's language.")
    titles: dict[str, str] = Field(
        default_factory=dict, description="The spec's title in each language it gives one.")
    points: float
    max_points: float
    passed: bool
    message: str = Field(description="Why, in words a student understands, in the report's "
                         "language.")
    detail: Message | None = Field(
        default=None, description="``message`` as data: its catalogue id and parameters.")
    public: bool = True


class CellOutcome(BaseModel):
    index: int
    status: str = Field(description="ok, error, timeout, skipped or kernel-died")
    seconds: float | None = None
    error: str | None = None


class ModelSummary(BaseModel):
    """A measured model as the report shows it."""

    index: int
    label: str = Field(description="Short name: notebook variable or class and index.")
    framework: str
    kind: str = Field(description="cnn, mlp, rnn, linear (no hidden non-linearity) or other")
    params: int
    conv_channels: list[int] = Field(default_factory=list)
    conv_kernels: list[int] = Field(default_factory=list)
    conv_pool_blocks: int = 0
    accuracy: float | None = Field(default=None, description="On the evaluation set of this mode.")
    metrics: dict[str, float] = Field(
        default_factory=dict, description="Every metric of the task (runner.metrics) on the "
        "evaluation set of this mode, e.g. accuracy, or rmse, mae and mape.")
    input_format: str | None = None
    forecast: list[float] | None = Field(default=None, max_length=10_000,
                                         description="A forecasting model's forecast.")
    layers: list[Layer] = Field(default_factory=list)
    error: str | None = None
    graph: str | None = Field(
        default=None, description="The architecture read from the model's exported ONNX "
        "graph (what a clean-room evaluation runs), or why there is none.")
    evaluated_by: str = Field(
        "kernel", description="'clean room': metrics and architecture are what the exported "
        "graph computes in a sandbox that never ran student code; 'kernel': as the "
        "notebook's kernel reported them.")
    verified: bool = Field(True, description="False where the clean room was asked for and "
                           "could not vouch for the model.")
    details: dict[str, Message] = Field(
        default_factory=dict, description="``input_format``, ``graph`` and ``error`` as data "
        "where nngrade wrote them, for rendering in another language.")


class ForecastSeries(BaseModel):
    """What a forecast plot needs besides the models: the end of the history, the truth."""

    history: list[float] = Field(description="The last values before the forecast.")
    actual: list[float] = Field(description="The values the models forecast.")
    baselines: dict[str, list[float]] = Field(default_factory=dict)


class SandboxInfo(BaseModel):
    backend: str = Field(description="bubblewrap, docker or none")
    isolated: bool
    network: bool
    limits: dict[str, float | int | str] = Field(default_factory=dict)
    image: str | None = Field(default=None, description="The container image (docker only).")


GridRow = Literal["input", "truth", "predicted", "sample", "reconstruction"]


class SavedImage(BaseModel):
    """An image the notebook saved, decoded and redrawn by the host (at most 512 px)."""

    name: str = Field(max_length=200, description="Its path in the notebook's folder.")
    width: int = Field(ge=1, description="Of the file as saved.")
    height: int = Field(ge=1)
    png: str = Field(max_length=4_000_000, pattern=r"^[A-Za-z0-9+/]*={0,2}$")


class ImageGrid(BaseModel):
    """Images the grader drew on the host, a row each of ``rows``, as one base64 PNG."""

    key: Literal["segmentation", "samples", "reconstructions"]
    model: str | None = Field(default=None, description="The model whose outputs are shown.")
    rows: list[GridRow] = Field(max_length=8)
    png: str = Field(max_length=4_000_000, pattern=r"^[A-Za-z0-9+/]*={0,2}$")


class WrittenAnswer(BaseModel):
    """A rubric item's answer as found in the notebook; the instructor grades it."""

    item: str
    title: str
    points: float = Field(description="The most the instructor can give for it.")
    found_by: Literal["tag", "heading", "question"] | None = Field(
        default=None, description="Where it was found; None: no place for it was found.")
    text: str = Field("", max_length=25_000, description="As the student wrote it: "
                      "untrusted, shown only as text.")
    sha256: str = Field(description="Of the text with whitespace collapsed.")
    cells: list[int] = Field(default_factory=list, description="Cells the answer spans.")
    context: list[int] = Field(default_factory=list, description="Code cells whose outputs "
                               "it refers to.")


class Execution(BaseModel):
    seconds: float
    export_seconds: float | None = Field(
        default=None, description="Of ``seconds``: exporting the trained models to ONNX.")
    clean_room_seconds: float | None = Field(
        default=None, description="The clean room's own run, after the notebook's sandbox; "
        "None when it did not run.")
    cells: list[CellOutcome] = Field(default_factory=list)
    stopped: str | None = Field(default=None, description="Why execution ended early, if it did.")
    stopped_detail: Message | None = Field(default=None, description="``stopped`` as data.")
    neutralised: list[str] = Field(
        default_factory=list, description="Lines that were not run (installs, Drive mounts).")


class Report(BaseModel):
    schema_version: int = REPORT_SCHEMA_VERSION
    language: str = Field("en", description="The language the texts of this file are in; "
                          "`nngrade report --lang` renders them in another.")
    assignment: str
    assignment_title: str
    assignment_titles: dict[str, str] = Field(default_factory=dict)
    notebook: str
    submission_sha256: str
    grader_version: str = Field(description="The grader that scored: the checks, "
                                "thresholds and points applied.")
    measured_by: str | None = Field(default=None, description="The grader that ran the "
                                    "notebook and measured; differs after `nngrade rescore`.")
    mode: Mode
    status: Status
    score: float
    max_score: float
    task: str = Field("classification", description="classification, forecasting, ...: "
                      "decides which metrics the models have.")
    evaluation_set: str = Field(description="What the metrics were measured on.")
    evaluation_set_detail: Message | None = None
    checks: list[CheckOutcome]
    models: list[ModelSummary] = Field(default_factory=list)
    baselines: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Metrics of forecasts made without a model "
        "(runner.baselines), to compare the models with.")
    series: ForecastSeries | None = Field(default=None, description="Forecasting only.")
    grids: list[ImageGrid] = Field(default_factory=list, description="Images the grader "
                                   "drew: hidden inputs, true and predicted masks, samples.")
    saved_images: list[SavedImage] = Field(default_factory=list, description="Images the "
                                           "notebook saved, as the host redrew them.")
    answers: list[WrittenAnswer] = Field(default_factory=list, description="Written answers, "
                                         "graded by the instructor, not in ``score``.")
    execution: Execution
    sandbox: SandboxInfo
    notes: list[str] = Field(default_factory=list)
    note_details: list[Message] = Field(
        default_factory=list, description="``notes`` as data (catalogue ids and parameters), "
        "one for each note, for rendering in another language.")
    created: datetime
