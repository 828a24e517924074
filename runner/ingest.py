"""Read what the sandbox wrote, as untrusted data, and join it with the host's truth."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from graders.architecture import Architecture, summarise
from graders.context import CellReport, FunctionResult, GradingContext, ScoredModel
from runner.cleanroom import CleanRoom
from runner.generation_scores import GenerationScore
from runner.i18n.message import Message, msg
from runner.measurements import (
    CELLS_FILE,
    MAX_CELL_EVENTS,
    MEASUREMENTS_FILE,
    RUN_FILE,
    CellEvent,
    CellRecord,
    MeasuredModel,
    Measurements,
    RunRecord,
    RunSummary,
    first_problem,
    load_array,
    read_json_lines,
    read_json_model,
)
from runner.metrics import compute_all
from runner.onnx_graph import GraphRefused, read_exported
from runner.provision import Truth

AGENT_STOPPED = {"total_time": "stopped.total_time"}
"""The agent's codes for why it stopped early, and the catalogue's words for them."""


def read_run(out: Path, notes: list[Message]) -> RunRecord | None:
    """Join run.json (how the run ended) and the cell log (each cell, in order)."""
    summary = _read(out / RUN_FILE, RunSummary, notes)
    if summary is None:
        return None
    try:
        events = read_json_lines(out / CELLS_FILE, CellEvent, max_lines=MAX_CELL_EVENTS)
    except (OSError, ValueError) as error:
        notes.append(msg("note.cell_log_rejected", error=str(error)))
        return None
    outcomes: dict[int, CellRecord] = {}
    running = None
    for event in events:
        if event.status == "running":
            running = event.index
            continue
        outcomes[event.index] = CellRecord(**event.model_dump())
        if event.index == running:
            running = None
    try:
        return RunRecord(cells=list(outcomes.values()), running=running,
                         **summary.model_dump())
    except ValidationError as error:
        notes.append(msg("note.cell_log_rejected", error=_why(error)))
        return None


def close_run(run: RunRecord | None, code_cells: list[int], killed: Message | None
              ) -> RunRecord | None:
    """Account for every code cell after the sandbox was killed mid-run: the one running
    was killed (:func:`cell_error` says why), the rest were skipped."""
    if killed is None:
        return run
    run = run or RunRecord()
    done = {cell.index for cell in run.cells}
    cells = list(run.cells)
    for index in code_cells:
        if index not in done:
            cells.append(CellRecord(index=index,
                                    status="killed" if index == run.running else "skipped"))
    return run.model_copy(update={"cells": cells, "running": None})


def stopped_reason(killed: Message | None, run: RunRecord | None) -> Message | None:
    """Why execution ended early: the host's kill, else the agent's own stop, else none."""
    if killed is not None:
        return killed
    if run is None:
        return msg("stopped.did_not_start")
    if run.stopped:
        known = AGENT_STOPPED.get(run.stopped)
        return msg(known) if known else msg("stopped.as_said", reason=run.stopped)
    return None


def cell_error(cell: CellRecord, stopped: Message | None) -> Message | str | None:
    """A cell's error: the student's own error text as it is, nngrade's own in words."""
    if cell.status == "killed":
        return stopped
    if cell.status == "timeout" and cell.limit_seconds is not None:
        return msg("cell.timeout", seconds=cell.limit_seconds)
    if cell.status == "kernel-died":
        return msg("cell.kernel_died")
    return cell.error


def read_measurements(out: Path, notes: list[Message]) -> Measurements | None:
    return _read(out / MEASUREMENTS_FILE, Measurements, notes)


def _read(path: Path, model: type, notes: list[Message]):
    if not path.is_file():
        return None
    try:
        return read_json_model(path, model)
    except (OSError, ValueError) as error:  # ValidationError is a ValueError
        notes.append(msg("note.file_rejected", file=path.name, error=_why(error)))
        return None


def _why(error: Exception) -> str:
    """One line: the first problem pydantic found, or the error's own first line."""
    if isinstance(error, ValidationError):
        return first_problem(error)
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _perturbed_metrics(out: Path, model: MeasuredModel, truth: Truth) -> dict[str, float]:
    """Metrics on the perturbed copy of the inputs; empty when there is none or it is bad."""
    if model.perturbed_predictions is None or truth.perturbed_labels is None:
        return {}
    predicted, _ = _load_predictions(out, model.perturbed_predictions, truth.perturbed_labels,
                                     truth.task)
    return {} if predicted is None else compute_all(truth.task, predicted,
                                                    truth.perturbed_labels)


def _load_predictions(out: Path, relative: str, targets: np.ndarray, task: str
                      ) -> tuple[np.ndarray | None, Message | None]:
    """Predictions written in the sandbox, checked against the targets' shape and the task;
    else None and why."""
    try:
        predicted = load_array(out, relative, max_items=targets.size)
    except (OSError, ValueError) as error:
        return None, msg("model.error.unreadable", error=str(error))
    if task in ("classification", "segmentation"):  # a class per input, or per pixel
        if predicted.shape != targets.shape or not np.issubdtype(predicted.dtype, np.integer):
            return None, msg("model.error.not_class_ids", shape=list(predicted.shape),
                             dtype=str(predicted.dtype), n=len(targets))
    elif predicted.shape != targets.shape or not np.all(np.isfinite(predicted)):
        return None, msg("model.error.bad_forecast", shape=list(predicted.shape),
                         n=len(targets))
    return predicted, None


def _predictions(out: Path, model: MeasuredModel, truth: Truth
                 ) -> tuple[np.ndarray | None, Message | str | None]:
    """One model's recorded predictions, checked against the task, and its error."""
    if model.predictions is None or truth.labels is None:
        return None, model.error
    predicted, problem = _load_predictions(out, model.predictions, truth.labels, truth.task)
    return predicted, problem or model.error


def _graph(out: Path, model: MeasuredModel) -> tuple[Architecture | None, Message | None]:
    """The architecture of the model's exported graph, or why there is none."""
    if model.graph is None:
        return None, (msg("model.graph.not_exported", error=model.graph_error)
                      if model.graph_error else None)
    try:
        return summarise(read_exported(out, model.graph).layers), None
    except GraphRefused as refused:
        return None, msg("model.graph.refused", error=str(refused))


def _rescored(kernel: ScoredModel, clean: CleanRoom, out: Path, truth: Truth) -> ScoredModel:
    """``kernel`` scored on what its graph computed in the clean room, when it did.

    The architecture is the graph's; the kernel's own predictions are only compared:
    whether the graph computes what the model computed in the kernel is ``reproducible``.
    """
    if kernel.graph is None:  # not exported, or refused: only the kernel's word for it
        return replace(kernel, verified=False)
    cleaned = clean.models.get(kernel.measured.index)
    if cleaned is None or cleaned.predictions is None or clean.out is None:
        why = (cleaned.error if cleaned is not None and cleaned.error
               else msg("model.error.no_clean_room_result"))
        return replace(kernel, error_detail=msg("model.error.clean_room_failed", error=why),
                       architecture=kernel.graph, accuracy=None, metrics={}, perturbed={},
                       forecast=None, shown=None, evaluated_by="clean room", verified=False)
    measured = kernel.measured.model_copy(update={
        "predictions": cleaned.predictions,
        "perturbed_predictions": cleaned.perturbed_predictions})
    predicted, error = _predictions(clean.out, measured, truth)
    metrics = ({} if predicted is None or truth.labels is None
               else compute_all(truth.task, predicted, truth.labels))
    forecast = (tuple(float(v) for v in predicted)
                if predicted is not None and truth.task == "forecasting" else None)
    return replace(kernel, error_detail=error, architecture=kernel.graph,
                   accuracy=metrics.get("accuracy"), metrics=metrics, forecast=forecast,
                   shown=_shown(predicted, truth),
                   perturbed=_perturbed_metrics(clean.out, measured, truth) if metrics else {},
                   evaluated_by="clean room",
                   reproducible=_same_outputs(out, kernel.measured.reference_outputs,
                                              clean.out, cleaned.reference_outputs))


def _shown(predicted: np.ndarray | None, truth: Truth) -> np.ndarray | None:
    """The first predicted masks, kept for the report's grid (segmentation only)."""
    if predicted is None or truth.shown_inputs is None or truth.task != "segmentation":
        return None
    return predicted[:len(truth.shown_inputs)].copy()


def _same_outputs(kernel_out: Path, kernel_path: str | None, clean_out: Path,
                  clean_path: str | None) -> bool | None:
    """Whether the kernel's and the graph's outputs on the same public inputs agree.

    None when either is missing. Tolerance: a thousandth of the outputs' range, far
    above float32 export error (measured below 10⁻⁶) and far below any real difference.
    """
    if kernel_path is None or clean_path is None:
        return None
    try:
        kernel = load_array(kernel_out, kernel_path, max_items=1_000_000).astype(np.float64)
        graph = load_array(clean_out, clean_path, max_items=1_000_000).astype(np.float64)
    except (OSError, ValueError):
        return False
    if kernel.shape != graph.shape:
        return False
    scale = max(float(np.ptp(graph)) if graph.size else 0.0, 1e-6)
    return bool(np.all(np.abs(kernel - graph) <= 1e-3 * scale))


def _function(out: Path, name: str, measured, truth: Truth) -> FunctionResult:
    arguments = truth.arguments[name]
    if measured is None:
        return FunctionResult(name, arguments, None,
                              error=msg("function.error.not_measured"))
    values = None
    error = measured.error
    if measured.values is not None and error is None:
        try:
            values = load_array(out, measured.values, max_items=10 * arguments.size)
        except (OSError, ValueError) as problem:
            error = msg("function.error.unreadable", error=str(problem))
    return FunctionResult(name, arguments, values, measured.autograd_calls, error)


def _generated(model: MeasuredModel, score: GenerationScore | None) -> ScoredModel:
    """A generation task's model, scored on what its graphs produced in the clean room."""
    if score is None:  # not scored: the host ran no clean room for this model
        return ScoredModel(model, summarise(model.layers), None, verified=False,
                           error_detail=msg("model.error.no_clean_room_result"))
    return ScoredModel(model, summarise(model.layers), None, dict(score.metrics),
                       error_detail=score.error, shown=score.samples,
                       reconstructed=score.reconstructions, graph_parts=score.parts,
                       evaluated_by="clean room", verified=bool(score.metrics))


def build_context(mode: str, out: Path, run: RunRecord | None,
                  measurements: Measurements | None, truth: Truth,
                  stopped: Message | None, clean: CleanRoom | None = None,
                  generated: dict[int, GenerationScore] | None = None,
                  saved_images: list[str] | None = None) -> GradingContext:
    """``stopped``: why execution ended early (:func:`stopped_reason`), or None;
    ``generated``: a generation task's scores by model index."""
    cells = ([CellReport(c.index, c.status, cell_error(c, stopped)) for c in run.cells]
             if run else [])
    models = []
    functions: dict[str, FunctionResult] = {}
    if measurements is not None and truth.generation is not None:
        models = [_generated(model, (generated or {}).get(model.index))
                  for model in measurements.models]
    elif measurements is not None:
        for model in measurements.models:
            predicted, error = _predictions(out, model, truth)
            metrics = ({} if predicted is None or truth.labels is None
                       else compute_all(truth.task, predicted, truth.labels))
            forecast = (tuple(float(v) for v in predicted)
                        if predicted is not None and truth.task == "forecasting" else None)
            graph, problem = _graph(out, model)
            models.append(ScoredModel(model, summarise(model.layers), metrics.get("accuracy"),
                                      metrics, forecast,
                                      _perturbed_metrics(out, model, truth) if metrics else {},
                                      graph, problem, error_detail=error,
                                      shown=_shown(predicted, truth)))
            if clean is not None:
                models[-1] = _rescored(models[-1], clean, out, truth)
    by_name = {f.name: f for f in measurements.functions} if measurements else {}
    for name in truth.arguments:
        functions[name] = _function(out, name, by_name.get(name), truth)
    baselines = {name: compute_all(truth.task, forecast, truth.labels)
                 for name, forecast in truth.baselines.items() if truth.labels is not None}
    return GradingContext(mode=mode, cells=cells, stopped=stopped, models=models,
                          functions=functions, probe_ran=measurements is not None,
                          evaluation_set=truth.evaluation_set, baselines=baselines,
                          perturbation=truth.perturbation, image_size=truth.image_size,
                          num_classes=truth.num_classes, saved_images=list(saved_images or []))
