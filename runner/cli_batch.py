"""`nngrade batch`: grade a whole class, resumably, with a gradebook."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from runner import assignments
from runner.batch.exports import write_grades_csv, write_moodle_worksheet
from runner.batch.gradebook import Gradebook, default_url
from runner.batch.intake import collect
from runner.batch.run import LocalExecutor, run_batch
from runner.batch.similarity import notebook_code, similar_pairs
from runner.batch.summary import write_summary
from runner.errors import NngradeError
from runner.i18n.language import choose_language
from runner.sandbox.backends import Backend
from runner.sandbox.select import BACKEND_HELP, choose_backend, visible_gpus

console = Console()


def batch(
    assignment_id: Annotated[str, typer.Argument(metavar="ID")],
    submissions: Annotated[Path, typer.Argument(
        help="A folder with one notebook (or one sub-folder) per student, or an LMS archive "
             "(Moodle's 'Download all submissions' .zip).")],
    out: Annotated[Path, typer.Option(help="Output folder: gradebook, grades.csv, and "
                                           "students/<id>/ with each report.")],
    jobs: Annotated[int, typer.Option(min=1, help="Submissions graded at once.")] = 1,
    gpus: Annotated[str | None, typer.Option(
        help="GPU ids to share among the jobs, one per running job, e.g. '0,1' "
             "(default: all visible, when the assignment wants a GPU).")] = None,
    regrade: Annotated[bool, typer.Option(
        "--regrade", help="Grade again even submissions the gradebook already has.")] = False,
    db: Annotated[str | None, typer.Option(
        help="SQLAlchemy URL of the gradebook (default: SQLite in --out), e.g. "
             "postgresql://user@host/grades for one shared by several machines.")] = None,
    backend: Annotated[str, typer.Option("--backend", help=BACKEND_HELP)] = "auto",
    image: Annotated[str | None, typer.Option("--image", envvar="NNGRADE_IMAGE",
                                              help="Grading image for Docker.")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", envvar="NNGRADE_DATA_DIR",
                                                  help="Folder holding dataset files.")] = None,
    executor: Annotated[str, typer.Option(
        help="local: --jobs sandboxes on this machine; ray: Ray tasks, one submission each "
             "(num_gpus=1 when the assignment wants a GPU), at most --jobs at once.")] = "local",
    ray_address: Annotated[str | None, typer.Option(
        help="Address of an existing Ray cluster (e.g. ray://head:10001 or 'auto'); "
             "default: a local Ray started for this batch.")] = None,
    lang: Annotated[str | None, typer.Option(
        "--lang", help="Language of the reports, the summary page and the Moodle feedback: "
                       "ru or en (default: $NNGRADE_LANG, else the assignment's language).")
    ] = None,
) -> None:
    """Grade every submission of a class; rerun to resume where it stopped.

    Each result goes to the gradebook as soon as it exists. A rerun skips submissions
    already graded with the same content and grader version, so a batch stopped at any
    moment (even with SIGKILL) resumes without redoing work.
    """
    assignment = assignments.load(assignment_id)
    choose_language(lang, assignment.spec.language)  # a wrong --lang fails before any work
    chosen = choose_backend(backend, allow_unsandboxed=False, image=image)
    out.mkdir(parents=True, exist_ok=True)
    book = Gradebook(db or default_url(out))
    gpu_ids = visible_gpus() if gpus is None else [g for g in gpus.split(",") if g.strip()]
    with tempfile.TemporaryDirectory(prefix="nngrade-batch-") as tmp:
        entries = collect(submissions, Path(tmp))
        console.print(f"{len(entries)} students in {submissions}; sandbox {chosen.name}; "
                      f"{jobs} at a time; gradebook {book.url}")
        started = time.monotonic()
        with _BatchProgress(len(entries)) as progress:
            result = run_batch(assignment, entries, out, book,
                               _executor(executor, chosen, image, jobs, gpu_ids, data_dir,
                                         ray_address),
                               regrade=regrade, on_event=progress.event, language=lang)
        pairs = similar_pairs({entry.student: notebook_code(entry.notebook)
                               for entry in entries if entry.notebook is not None})
    students = {entry.student for entry in entries}
    grades = [g for g in book.all(assignment.spec.id) if g.student in students]
    path = write_grades_csv(assignment.spec, grades, out)
    moodle, without_id = write_moodle_worksheet(grades, out, language=result.language)
    summary = write_summary(assignment.spec, grades, pairs, out, language=result.language)
    table = Table("student", "status", "score", "problem", title=f"nngrade batch {assignment_id}")
    for grade in grades:
        table.add_row(escape(grade.student), grade.status,
                      f"{grade.score:g}/{grade.max_score:g}", escape(grade.problem or ""))
    console.print(table)
    console.print(f"graded {len(result.graded)}, already in the gradebook {len(result.skipped)}, "
                  f"problems {len(result.problems)} in {time.monotonic() - started:.0f} s; "
                  f"grades: {path}")
    for pair in pairs[:10]:
        console.print(f"[yellow]similar:[/] {escape(pair.first)} and {escape(pair.second)} "
                      f"({pair.score:.0%} of their code fingerprints shared): a human should look")
    console.print(f"Class summary: {summary}")
    console.print(f"Moodle grading worksheet: {moodle}" + (
        f" ({without_id} students without a Moodle participant id left out)"
        if without_id else ""))


def _executor(name: str, backend: Backend, image: str | None, jobs: int, gpus: list[str],
              data_dir: Path | None, ray_address: str | None):
    if name == "local":
        return LocalExecutor(backend, jobs=jobs, gpus=gpus, data_dir=data_dir)
    if name == "ray":
        from runner.batch.ray_executor import RayExecutor

        return RayExecutor(backend.name if backend.name == "docker" else "local", image=image,
                           address=ray_address, jobs=jobs, data_dir=data_dir)
    raise NngradeError(f"unknown executor {name!r}", hint="Use --executor local or ray.")


class _BatchProgress:
    """done / running / problems, with an ETA."""

    def __init__(self, total: int) -> None:
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.completed}/{task.total}"),
                                 TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                                 disable=not console.is_terminal)
        self.task = self.progress.add_task("grading", total=total)
        self.running = self.problems = 0

    def __enter__(self) -> _BatchProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def event(self, kind: str, entry, grade) -> None:
        if kind == "start":
            self.running += 1
        elif kind in ("done", "skip"):
            if kind == "done" and entry.notebook is not None:
                self.running -= 1
            if grade is not None and grade.status == "problem":
                self.problems += 1
            self.progress.advance(self.task)
            if not console.is_terminal and kind == "done":
                console.print(f"{entry.student}: {grade.status} {grade.score:g}/"
                              f"{grade.max_score:g}")
        self.progress.update(self.task, description=f"grading: {self.running} running, "
                                                    f"{self.problems} problems")
