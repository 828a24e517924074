"""Grade a class: skip what the gradebook already has, hand the rest to an executor.

Each submission is graded exactly as `nngrade grade` does it (its own sandbox, its
own report folder). This module decides what to run and records each result in the
gradebook the moment it arrives, from one thread, so rows never interleave. Where
the work runs is the executor's business: threads on this machine
(:class:`LocalExecutor`) or tasks on a Ray cluster (``runner.batch.ray_executor``).
"""

from __future__ import annotations

import dataclasses
import os
import queue
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from runner.assignments import Assignment
from runner.batch.exports import write_gradescope_results
from runner.batch.gradebook import Grade, Gradebook, check_rows
from runner.batch.intake import Entry, safe_name
from runner.errors import NngradeError, SandboxUnavailable
from runner.grading import grade, grader_version
from runner.i18n.language import choose_language
from runner.i18n.render import Translator
from runner.report.model import Mode, Report
from runner.sandbox.backends import Backend
from runner.spec import GpuPolicy

EventCallback = Callable[[str, Entry, Grade | None], None]  # "start", "done", "skip"
Outcome = Report | str  # a report, or why the submission could not be graded


@dataclass(frozen=True)
class Task:
    """One submission to grade, and where its report folder goes."""

    entry: Entry
    folder: Path
    language: str = "en"  # of its report, results.json and problem text


class Executor(Protocol):
    def run(self, assignment: Assignment, tasks: list[Task],
            on_start: Callable[[Task], None]) -> Iterator[tuple[Task, Outcome]]:
        """Grade every task; yield each outcome as it finishes (any order)."""
        ...


@dataclass
class BatchResult:
    graded: list[Grade] = field(default_factory=list)
    skipped: list[Grade] = field(default_factory=list)
    problems: list[Grade] = field(default_factory=list)
    language: str = "en"  # the batch's: for its summary page and Moodle worksheet too


def student_folder(out_dir: Path, student: str) -> Path:
    return out_dir / "students" / safe_name(student)


def run_batch(assignment: Assignment, entries: list[Entry], out_dir: Path, book: Gradebook,
              executor: Executor, *, regrade: bool = False,
              on_event: EventCallback = lambda kind, entry, grade: None,
              language: str | None = None) -> BatchResult:
    """Grade every entry not already current in ``book``; returns what happened to each.

    ``language`` (``--lang``; else ``$NNGRADE_LANG``, else the spec's) is the language of
    the reports, results.json files and problem texts; ``BatchResult.language`` says which
    it was, for the summary page and the Moodle worksheet.
    """
    spec = assignment.spec
    version = grader_version(assignment)
    language = choose_language(language, spec.language)
    result = BatchResult(language=language)
    tasks: list[Task] = []
    for entry in entries:
        kept = None if regrade or entry.notebook is None else book.get(spec.id, entry.student)
        if entry.notebook is None:
            problem = entry.problem or Translator(language)("batch.problem.no_notebook")
            grade_ = book.put(_problem(spec.id, spec.max_score, version, entry, problem))
            result.problems.append(grade_)
            on_event("done", entry, grade_)
        elif kept is not None and kept.is_current(entry.sha256, version):
            result.skipped.append(kept)
            on_event("skip", entry, kept)
        else:
            tasks.append(Task(entry, student_folder(out_dir, entry.student), language))

    def started(task: Task) -> None:
        on_event("start", task.entry, None)

    for task, outcome in executor.run(assignment, tasks, started):
        grade_ = _record(outcome, task, spec.id, spec.max_score, version, out_dir)
        grade_ = book.put(grade_)
        (result.problems if grade_.status == "problem" else result.graded).append(grade_)
        on_event("done", task.entry, grade_)
    return result


class LocalExecutor:
    """``jobs`` sandboxes at once on this machine, one GPU each when the assignment wants one."""

    def __init__(self, backend: Backend, *, jobs: int = 1, gpus: list[str] | None = None,
                 data_dir: Path | None = None) -> None:
        self.backend, self.jobs, self.gpus, self.data_dir = backend, max(1, jobs), gpus, data_dir

    def run(self, assignment: Assignment, tasks: list[Task],
            on_start: Callable[[Task], None]) -> Iterator[tuple[Task, Outcome]]:
        slots = gpu_slots(assignment.spec.gpu, self.gpus)
        assignment = with_cpu_share(assignment, self.jobs)

        def work(task: Task) -> Outcome:
            gpu = slots.get() if slots else None
            try:
                on_start(task)
                return grade(assignment, task.entry.notebook, task.folder, mode=Mode.grade,
                             backend=self.backend, data_dir=self.data_dir,
                             gpus=[gpu] if gpu is not None else [], language=task.language)
            except SandboxUnavailable:
                raise  # this machine cannot grade anything: stop; a rerun resumes
            except Exception as error:  # one submission, whatever it did
                return problem_text(error, task.language)
            finally:
                if gpu is not None:
                    slots.put(gpu)

        with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="grade") as pool:
            pending: dict[Future, Task] = {pool.submit(work, task): task for task in tasks}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield pending.pop(future), future.result()
            finally:
                for future in pending:
                    future.cancel()


def problem_text(error: BaseException, language: str = "en") -> str:
    """Why one submission could not be graded, in a line for its gradebook row.

    Errors nngrade anticipated say so in their own words; anything else is named with
    its type, since it is nngrade's failure on this student's file, not the student's.
    """
    if isinstance(error, NngradeError):
        return error.in_language(language)[0]
    detail = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {detail[0] if detail else ''}".rstrip(": ")
    return Translator(language)("batch.problem.crashed", error=text[:300])


def with_cpu_share(assignment: Assignment, jobs: int, *,
                   cpu_count: int | None = None) -> Assignment:
    """Give each of ``jobs`` parallel runs its share of the CPUs, unless the spec sets one.

    ``cpu_count`` defaults to this machine's.
    """
    limits = assignment.spec.limits
    if jobs <= 1 or limits.cpus is not None:
        return assignment
    share = max(1.0, (cpu_count or os.cpu_count() or 1) / jobs)
    spec = assignment.spec.model_copy(update={"limits": limits.model_copy(update={"cpus": share})})
    return dataclasses.replace(assignment, spec=spec)


def gpu_slots(policy: GpuPolicy, gpus: list[str] | None) -> queue.Queue | None:
    """One GPU per running job, when the assignment wants GPUs and there are some."""
    if policy is GpuPolicy.never or not gpus:
        if policy is GpuPolicy.required:
            raise SandboxUnavailable("this assignment needs a GPU and none was given or seen",
                                     hint="Pass --gpus 0,1 on a machine with NVIDIA GPUs.")
        return None
    slots: queue.Queue = queue.Queue()
    for gpu in gpus:
        slots.put(gpu)
    return slots


def _record(outcome: Outcome, task: Task, assignment_id: str, max_score: float, version: str,
            out_dir: Path) -> Grade:
    """The gradebook row for one outcome; a report that cannot be handed on is a problem."""
    if isinstance(outcome, Report):
        try:
            write_gradescope_results(outcome, task.folder, task.language)
            return _from_report(outcome, task, version, out_dir)
        except Exception as error:  # one submission, whatever it did
            outcome = problem_text(error, task.language)
    return _problem(assignment_id, max_score, version, task.entry, outcome)


def _from_report(report: Report, task: Task, version: str, out_dir: Path) -> Grade:
    entry = task.entry
    return Grade(
        assignment=report.assignment, student=entry.student, grader_version=version,
        status=report.status.value, score=report.score, max_score=report.max_score,
        checks=check_rows(report.checks),
        submission_sha256=entry.sha256,
        report_dir=str(task.folder.relative_to(out_dir)),
        seconds=report.execution.seconds, full_name=entry.full_name,
        participant=entry.participant, measured_by=report.measured_by or version)


def _problem(assignment_id: str, max_score: float, version: str, entry: Entry,
             problem: str) -> Grade:
    return Grade(assignment=assignment_id, student=entry.student, grader_version=version,
                 status="problem", problem=problem, submission_sha256=entry.sha256,
                 max_score=max_score, full_name=entry.full_name, participant=entry.participant)
