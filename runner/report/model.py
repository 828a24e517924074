"""The report schema: what `report.json` holds, versioned.

Bump ``REPORT_SCHEMA_VERSION`` on any change a reader would notice; older
readers then know to refuse the file instead of misreading it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from runner.measurements import Layer

REPORT_SCHEMA_VERSION = 1


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
    title: str
    points: float
    max_points: float
    passed: bool
    message: str = Field(description="Why, in words a student understands.")
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
    input_format: str | None = None
    layers: list[Layer] = Field(default_factory=list)
    error: str | None = None


class SandboxInfo(BaseModel):
    backend: str = Field(description="bubblewrap, docker or none")
    isolated: bool
    network: bool
    limits: dict[str, float | int | str] = Field(default_factory=dict)
    image: str | None = Field(default=None, description="The container image (docker only).")


class Execution(BaseModel):
    seconds: float
    cells: list[CellOutcome] = Field(default_factory=list)
    stopped: str | None = Field(default=None, description="Why execution ended early, if it did.")
    neutralised: list[str] = Field(
        default_factory=list, description="Lines that were not run (installs, Drive mounts).")


class Report(BaseModel):
    schema_version: int = REPORT_SCHEMA_VERSION
    assignment: str
    assignment_title: str
    notebook: str
    submission_sha256: str
    grader_version: str
    mode: Mode
    status: Status
    score: float
    max_score: float
    evaluation_set: str = Field(description="What the accuracies were measured on.")
    checks: list[CheckOutcome]
    models: list[ModelSummary] = Field(default_factory=list)
    execution: Execution
    sandbox: SandboxInfo
    notes: list[str] = Field(default_factory=list)
    created: datetime
