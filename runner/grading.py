"""Grade one notebook: prepare a job, run it in a sandbox, ingest, score, report."""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from graders.architecture import summarise
from graders.context import ScoredModel
from graders.metric_checks import best
from runner import __version__, untrusted_json
from runner.answers import find_answers
from runner.archive import is_archive, notebook_from
from runner.assignments import Assignment
from runner.cleanroom import CleanRoom, evaluate_graphs, generate_in_clean_room
from runner.datasets import get_spec
from runner.datasets.loader_calls import wrong_dataset_notes
from runner.generation_scores import GenerationScore, score_models
from runner.i18n.language import choose_language
from runner.i18n.message import Message, msg
from runner.i18n.render import render
from runner.ingest import (
    build_context,
    cell_error,
    close_run,
    read_measurements,
    read_run,
    stopped_reason,
)
from runner.input_words import describe_input
from runner.instruments import feature_network
from runner.literals import large_literals
from runner.measurements import Measurements, ProgressEvent
from runner.metrics import METRICS, TASK_METRICS
from runner.notebook import clear_outputs, display_name, neutralise, read_submission
from runner.paths import ProjectPaths
from runner.provision import GenerationTruth, Truth, provision
from runner.report.image_grid import reconstruction_grid, samples_grid, segmentation_grid
from runner.report.model import (
    CellOutcome,
    Execution,
    ForecastSeries,
    ImageGrid,
    Mode,
    ModelSummary,
    Report,
    SandboxInfo,
    Status,
    WrittenAnswer,
)
from runner.report.write import write_report
from runner.sandbox.backends import Backend, RunRequest
from runner.sandbox.job import JobDir
from runner.sandbox.watchdog import Supervised
from runner.saved_images import saved_images
from runner.scoring import score, totals
from runner.scoring_record import ScoringRecord, collection_key, write_record
from runner.spec import AssignmentSpec, Limits, local_text

ProgressCallback = Callable[[dict], None]
MAX_EXECUTED_NOTEBOOK_BYTES = 64 * 1024 * 1024
KILLED = ("time", "memory", "processes")
"""Limits the watchdog kills a notebook for: ``stopped.killed.<limit>`` says it in words."""


def grader_version(assignment: Assignment) -> str:
    """nngrade's version and a hash of everything that decides a score.

    A resumed batch keeps a grade only while this is unchanged, so it covers all
    that can change one: the spec and the assignment's other grading data, the
    graders, and every part of the engine (probe, ingestion, scoring, provisioning,
    data sets).
    The task text is left out: students read it, scores do not. Hashed once per
    process per assignment folder, since a batch asks for every submission.
    """
    return _grader_version(assignment.folder.resolve(), assignment.spec.task)


@functools.cache
def _grader_version(folder: Path, task_text: str) -> str:
    code = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(__version__.encode())
    for name in ("graders", "runner"):
        digest.update(tree_digest(code / name).encode())
    datasets = ProjectPaths.default().datasets  # which data, and how it is cut
    if datasets.is_dir():
        digest.update(tree_digest(datasets).encode())
    digest.update(tree_digest(folder, skip={Path(task_text)}).encode())
    return f"{__version__}+{digest.hexdigest()[:10]}"


def tree_digest(root: Path, *, skip: set[Path] | None = None) -> str:
    """SHA-256 over the relative path and bytes of every file under ``root`` (caches aside)."""
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and p.suffix != ".pyc" and p.relative_to(root) not in (skip or set()))
    for path in files:
        relative = path.relative_to(root).as_posix().encode("utf-8", "surrogateescape")
        digest.update(len(relative).to_bytes(8, "big") + relative)
        data = path.read_bytes()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def grade(assignment: Assignment, notebook: Path, out_dir: Path, *, mode: Mode,
          backend: Backend, data_dir: Path | None = None, gpus: list[str] | None = None,
          on_progress: ProgressCallback | None = None, language: str | None = None) -> Report:
    """Grade ``notebook`` (or an archive holding one) and write the report into ``out_dir``,
    in ``language`` (else ``$NNGRADE_LANG``, else the spec's language)."""
    spec = assignment.spec
    language = choose_language(language, spec.language)
    with tempfile.TemporaryDirectory(prefix="nngrade-") as tmp:
        notes: list[Message] = []
        source = notebook
        if is_archive(notebook):
            source, refused = notebook_from(notebook, Path(tmp) / "submission")
            notes += [msg("note.archive_refused", entry=line) for line in refused]
        submission = read_submission(source)
        answers = written_answers(spec, submission.notebook, language)
        neutralise(submission)
        clear_outputs(submission)
        notes += large_literals(submission.notebook)
        out_dir.mkdir(parents=True, exist_ok=True)
        job = backend.job_dir(Path(tmp) / "job")
        nbformat.write(submission.notebook, job.work / submission.sandbox_name)
        probe, truth = provision(spec, job, mode, data_dir)
        notes += truth.notes
        job.write_config(probe=probe, notebook_name=submission.sandbox_name, limits=spec.limits)
        follower = _ProgressFollower(job.out / "progress.jsonl", on_progress)
        result = backend.run(RunRequest(job, spec.limits, gpus or [], follower.poll))
        notes += result.notes
        killed = _killed(result, spec.limits)
        code_cells = [i for i, c in enumerate(submission.notebook.cells) if c.cell_type == "code"]
        run = close_run(read_run(job.out, notes), code_cells, killed)
        stopped = stopped_reason(killed, run)
        measurements = read_measurements(job.out, notes)
        clean, generated = None, None
        models_spec = spec.collect.models
        if truth.generation is not None and measurements is not None:
            clean, generated = _generate(backend, spec.limits, gpus or [], job, measurements,
                                         Path(tmp) / "cleanroom", truth, data_dir)
            notes += clean.notes
        elif models_spec is not None and models_spec.clean_room and measurements is not None:
            horizon = (len(truth.labels) if truth.task == "forecasting" and truth.labels
                       is not None else None)
            clean = evaluate_graphs(backend, spec.limits, gpus or [], job, measurements,
                                    Path(tmp) / "cleanroom", horizon, truth.pixels)
            notes += clean.notes
        shown_images, image_notes = saved_images(
            job.out, measurements.saved_images if measurements is not None else [])
        notes += image_notes
        ctx = build_context(mode.value, job.out, run, measurements, truth, stopped, clean,
                            generated, [image.name for image in shown_images])
        checks = score(assignment, ctx, mode, language)
        total, top = totals(checks)
        version = grader_version(assignment)
        write_record(out_dir, ScoringRecord(ctx, collection_key(spec), version, mode.value))
        _keep_executed_notebook(job.out / "executed.ipynb", out_dir / "executed.ipynb", notes)
        if run is None:
            notes.append(msg("note.no_execution_record",
                             output=result.output_tail.strip()[-1500:] or msg("note.none")))
        if run is not None and run.probe_kernel_died:
            notes.append(msg("note.probe_kernel_died"))
        elif run is not None and run.probe_error:
            notes.append(msg("note.probe_failed", error=run.probe_error))
        if measurements is not None:
            notes += [Message(id=note.id, params=note.params) for note in measurements.notes]
            if spec.collect.models is not None:
                notes += wrong_dataset_notes(get_spec(spec.collect.models.dataset),
                                             measurements.loaders, spec.offered_datasets)
        notes += [note for model in ctx.models if (note := graph_disagreement(model))]
        if clean is not None and truth.generation is None:
            notes += [note for model in ctx.models if (note := clean_room_note(model, clean))]
    if not backend.isolated:
        notes.append(msg("note.unsandboxed"))
    status = (Status.failed if run is None
              else Status.graded if not stopped and all(c.status == "ok" for c in run.cells)
              else Status.partial)
    report = Report(
        language=language, assignment=spec.id, assignment_title=local_text(spec.title, language),
        assignment_titles=spec.title if isinstance(spec.title, dict) else {},
        notebook=display_name(notebook),
        submission_sha256=submission.sha256, grader_version=version, measured_by=version,
        mode=mode, status=status,
        score=total, max_score=top,
        task=truth.task, evaluation_set=render(truth.evaluation_set, language),
        evaluation_set_detail=truth.evaluation_set, checks=checks,
        models=[_summary(m, language) for m in ctx.models], baselines=ctx.baselines,
        series=_series(truth), grids=_grids(truth, ctx.models), saved_images=shown_images,
        answers=answers,
        execution=Execution(
            seconds=round(result.seconds, 1),
            stopped=render(stopped, language) if stopped else None, stopped_detail=stopped,
            export_seconds=_export_seconds(measurements),
            clean_room_seconds=None if clean is None or clean.out is None else round(
                clean.seconds, 1),
            cells=[CellOutcome(index=c.index, status=c.status, seconds=c.seconds,
                               error=_rendered(cell_error(c, stopped), language))
                   for c in (run.cells if run else [])],
            neutralised=submission.neutralised),
        sandbox=SandboxInfo(backend=backend.name, isolated=backend.isolated,
                            network=backend.network, image=backend.describe().get("image"),
                            limits={**spec.limits.model_dump(exclude_none=True),
                                    "gpus": ",".join(gpus or []) or "none",
                                    "peak_memory_mb": round(result.peak_memory_mb)}),
        notes=[render(note, language) for note in notes], note_details=notes,
        created=datetime.now(UTC))
    write_report(report, out_dir)
    return report


def written_answers(spec: AssignmentSpec, notebook: nbformat.NotebookNode,
                    language: str) -> list[WrittenAnswer]:
    """The rubric's answers as the student wrote them, for the report and the review."""
    return [WrittenAnswer(item=item.id, title=local_text(item.title, language),
                          points=item.points, found_by=answer.found_by, text=answer.text,
                          sha256=answer.sha256, cells=list(answer.cells),
                          context=list(answer.context))
            for item, answer in zip(spec.rubric, find_answers(notebook, spec.rubric),
                                    strict=True)]


def _generate(backend: Backend, limits: Limits, gpus: list[str], job: JobDir,
              measurements: Measurements, root: Path, truth: Truth, data_dir: Path | None
              ) -> tuple[CleanRoom, dict[int, GenerationScore]]:
    """A generation task's clean room, and each model's scores on what it produced there."""
    assert truth.generation is not None and truth.image_size is not None
    clean, found = generate_in_clean_room(backend, limits, gpus, job, measurements, root,
                                          truth.generation, truth.image_size)
    network = feature_network.load(truth.generation.dataset, data_dir)
    clean.notes.append(msg("note.yardstick", dataset=get_spec(truth.generation.dataset).title,
                           sha256=network.record.sha256[:16],
                           accuracy=network.record.test_accuracy))
    return clean, score_models(clean, found, truth.generation, network)


def _export_seconds(measurements: Measurements | None) -> float | None:
    times = [t for m in measurements.models
             for t in (m.export_seconds, *(g.export_seconds for g in m.graphs))
             if t is not None] if measurements is not None else []
    return round(sum(times), 1) if times else None


def _killed(result: Supervised, limits: Limits) -> Message | None:
    """Why the host ended the sandbox, if it did."""
    if result.killed_for in KILLED:
        return msg(f"stopped.killed.{result.killed_for}", total=limits.total_seconds,
                   memory=limits.memory_mb, processes=limits.processes)
    if result.returncode:
        return msg("stopped.runner_ended", code=result.returncode)
    return None


def _rendered(text: Message | str | None, language: str) -> str | None:
    return render(text, language) if isinstance(text, Message) else text


def _keep_executed_notebook(source: Path, dest: Path, notes: list[Message]) -> None:
    """Copy the sandbox's executed notebook if it is a valid notebook within limits."""
    if not source.is_file() or source.is_symlink():
        return
    if source.stat().st_size > MAX_EXECUTED_NOTEBOOK_BYTES:
        notes.append(msg("note.executed_too_large"))
        return
    data = source.read_bytes()[:MAX_EXECUTED_NOTEBOOK_BYTES]
    try:
        nbformat.validate(nbformat.from_dict(untrusted_json.loads(data)))
    except Exception:  # written by the sandbox: anything may be wrong with it
        notes.append(msg("note.executed_invalid"))
        return
    dest.write_bytes(data)


SHOWN_HISTORY = 48
"""Values of the history a forecast plot shows before the forecast."""


def graph_disagreement(model: ScoredModel) -> Message | None:
    """A note when the kernel's description of a model is not what its exported graph is."""
    kernel, graph = summarise(model.measured.layers), model.graph
    if graph is None or (kernel.kind, kernel.conv_channels, kernel.conv_kernels) == (
            graph.kind, graph.conv_channels, graph.conv_kernels):
        return None
    return msg("note.graph_disagrees", model=model.label, kernel=kernel.describe(),
               graph=graph.describe())


def clean_room_note(model: ScoredModel, clean: CleanRoom) -> Message | None:
    """Why a model was not scored on its graph, or that its graph is not the model."""
    if model.evaluated_by == "clean room":
        if not model.verified:
            return msg("note.clean_room.failed", model=model.label, error=model.error or "")
        if model.reproducible is False:
            return msg("note.clean_room.not_reproducible", model=model.label)
        return None
    if model.graph_problem:
        return msg("note.clean_room.self_reported", model=model.label, why=model.graph_problem)
    return msg("note.clean_room.not_exported", model=model.label)


def _series(truth: Truth) -> ForecastSeries | None:
    if truth.task != "forecasting" or truth.history is None or truth.labels is None:
        return None
    return ForecastSeries(history=[float(v) for v in truth.history[-SHOWN_HISTORY:]],
                          actual=[float(v) for v in truth.labels],
                          baselines={name: [float(v) for v in values]
                                     for name, values in truth.baselines.items()})


def _grids(truth: Truth, models: list[ScoredModel]) -> list[ImageGrid]:
    """What the best model produced: masks of hidden images beside the true ones; or a
    generator's samples and its reconstructions of hidden images."""
    if truth.generation is not None:
        return _generation_grids(truth.generation, models)
    if truth.task != "segmentation" or truth.shown_inputs is None or truth.labels is None:
        return []
    metric = METRICS[TASK_METRICS[truth.task][0]]
    shown = [m for m in models if m.shown is not None and m.metric(metric.name) is not None]
    if not shown:
        return []
    top = best(shown, metric)
    assert top.shown is not None
    return [segmentation_grid(truth.shown_inputs, truth.labels, top.shown, top.label)]


def _generation_grids(truth: GenerationTruth, models: list[ScoredModel]) -> list[ImageGrid]:
    """Samples of the generator with the best Fréchet distance (else any that has
    samples), and the reconstructions of the best rebuilder."""
    grids = []
    sampled = [m for m in models if m.shown is not None]
    if sampled:
        frechet = METRICS["frechet"]
        scored = [m for m in sampled if m.metric(frechet.name) is not None]
        top = best(scored, frechet) if scored else sampled[0]
        assert top.shown is not None
        grids.append(samples_grid(top.shown, top.label))
    rebuilt = [m for m in models if m.reconstructed is not None
               and m.metric("reconstruction_rmse") is not None]
    if rebuilt:
        top = best(rebuilt, METRICS["reconstruction_rmse"])
        assert top.reconstructed is not None
        grids.append(reconstruction_grid(truth.hidden, top.reconstructed, top.label))
    return grids


def _summary(model: ScoredModel, language: str) -> ModelSummary:
    arch = model.architecture
    measured = model.measured
    fmt = measured.input
    described = {"input_format": describe_input(fmt) if fmt else None,
                 "graph": model.graph.describe() if model.graph else model.graph_problem,
                 "error": model.error}
    details = {key: value for key, value in described.items() if isinstance(value, Message)}
    return ModelSummary(
        index=measured.index, label=model.label, framework=measured.framework,
        kind="linear" if arch.linear and arch.dense_layers else arch.kind,
        params=measured.params, conv_channels=list(arch.conv_channels),
        conv_kernels=list(arch.conv_kernels), conv_pool_blocks=arch.blocks,
        accuracy=model.accuracy, metrics=dict(model.metrics),
        forecast=list(model.forecast) if model.forecast is not None else None,
        layers=measured.layers,
        error=_rendered(details.get("error", model.error), language),
        input_format=_rendered(details.get("input_format"), language),
        graph=_rendered(details.get("graph"), language),
        evaluated_by=model.evaluated_by, verified=model.verified, details=details)


class _ProgressFollower:
    """Relay the agent's progress lines (display only: the sandbox wrote them).

    Lines are parsed with limits and checked against ProgressEvent, so the callback
    only sees well-formed events; a line longer than any event is skipped whole.
    A poll reads at most MAX_POLL_BYTES: it runs in the watchdog's loop, which a
    flood of progress must not slow down.
    """

    CHUNK = 64 * 1024
    MAX_POLL_BYTES = 16 * CHUNK

    def __init__(self, path: Path, callback: ProgressCallback | None) -> None:
        self.path, self.callback, self.offset = path, callback, 0
        self.in_long_line = False  # the next bytes continue a line being skipped

    def poll(self) -> None:
        if self.callback is None:
            return
        for _ in range(self.MAX_POLL_BYTES // self.CHUNK):
            chunk = self._read()
            self._take(chunk)
            if len(chunk) < self.CHUNK:
                return

    def _take(self, chunk: bytes) -> None:
        lines = chunk.split(b"\n")
        if len(lines) == 1:  # no line ends here yet
            if len(chunk) == self.CHUNK:
                self.offset += len(chunk)
                self.in_long_line = True
            return
        self.offset += len(chunk) - len(lines[-1])
        complete = lines[1:-1] if self.in_long_line else lines[:-1]
        self.in_long_line = False
        for line in complete:
            try:
                event = ProgressEvent.model_validate(untrusted_json.loads(line, max_depth=4))
            except ValueError:  # not JSON, nested too deep, or not an event
                continue
            self.callback(event.model_dump(exclude_none=True))

    def _read(self) -> bytes:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return b""
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return b""
            handle.seek(self.offset)
            return handle.read(self.CHUNK)
