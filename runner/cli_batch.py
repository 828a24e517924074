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
from runner.batch.class_files import (
    ClassInfo,
    write_class_files,
    write_class_info,
    write_pairs,
)
from runner.batch.gradebook import Gradebook, default_url
from runner.batch.intake import collect
from runner.batch.run import LocalExecutor, run_batch
from runner.batch.similarity import notebook_code, similar_pairs
from runner.cli_language import choose, help_text
from runner.errors import NngradeError
from runner.i18n.message import msg
from runner.i18n.render import Translator
from runner.sandbox.backends import Backend
from runner.sandbox.select import choose_backend, visible_gpus

console = Console()


def batch(
    assignment_id: Annotated[str, typer.Argument(metavar="ID")],
    submissions: Annotated[Path, typer.Argument(
        help=help_text("cli.help.batch.submissions"))],
    out: Annotated[Path, typer.Option(help=help_text("cli.help.batch.out"))],
    jobs: Annotated[int, typer.Option(min=1, help=help_text("cli.help.batch.jobs"))] = 1,
    gpus: Annotated[str | None, typer.Option(help=help_text("cli.help.batch.gpus"))] = None,
    regrade: Annotated[bool, typer.Option(
        "--regrade", help=help_text("cli.help.batch.regrade"))] = False,
    db: Annotated[str | None, typer.Option(help=help_text("cli.help.batch.db"))] = None,
    backend: Annotated[str, typer.Option(
        "--backend", help=help_text("cli.help.option.backend"))] = "auto",
    image: Annotated[str | None, typer.Option(
        "--image", envvar="NNGRADE_IMAGE", help=help_text("cli.help.batch.image"))] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", envvar="NNGRADE_DATA_DIR", help=help_text("cli.help.batch.data_dir"))
    ] = None,
    executor: Annotated[str, typer.Option(help=help_text("cli.help.batch.executor"))] = "local",
    ray_address: Annotated[str | None, typer.Option(
        help=help_text("cli.help.batch.ray_address"))] = None,
    lang: Annotated[str | None, typer.Option(
        "--lang", help=help_text("cli.help.batch.lang"))] = None,
) -> None:
    """Grade every submission of a class; rerun to resume where it stopped."""
    assignment = assignments.load(assignment_id)
    # A wrong --lang fails before any work; the intake's problems, the reports, the summary
    # page and what is printed here are all in this language.
    language = choose(lang, assignment.spec.language)
    t = Translator(language)
    chosen = choose_backend(backend, allow_unsandboxed=False, image=image)
    out.mkdir(parents=True, exist_ok=True)
    book = Gradebook(db or default_url(out))
    gpu_ids = visible_gpus() if gpus is None else [g for g in gpus.split(",") if g.strip()]
    with tempfile.TemporaryDirectory(prefix="nngrade-batch-") as tmp:
        entries = collect(submissions, Path(tmp), language=language)
        console.print(t("cli.batch.start", students=msg("unit.student", n=len(entries)),
                        path=str(submissions), sandbox=chosen.name, jobs=jobs, url=book.url),
                      markup=False)
        started = time.monotonic()
        with _BatchProgress(len(entries), t) as progress:
            result = run_batch(assignment, entries, out, book,
                               _executor(executor, chosen, image, jobs, gpu_ids, data_dir,
                                         ray_address),
                               regrade=regrade, on_event=progress.event, language=language)
        pairs = similar_pairs({entry.student: notebook_code(entry.notebook)
                               for entry in entries if entry.notebook is not None})
    info = ClassInfo(assignment=assignment.spec.id, gradebook=book.url,
                     language=result.language,
                     students=sorted({entry.student for entry in entries}))
    write_class_info(out, info)
    write_pairs(out, pairs)
    files = write_class_files(assignment.spec, book, out, info)
    path, moodle, without_id, summary = (files.grades_csv, files.moodle,
                                         files.moodle_without_id, files.summary)
    grades = [state.combined(assignment.spec, result.language) for state in files.states]
    table = Table(t("cli.batch.student"), t("cli.batch.status"), t("cli.batch.score"),
                  t("cli.batch.problem"), title=f"nngrade batch {escape(assignment_id)}")
    for grade in grades:
        table.add_row(escape(grade.student), _status(grade.status, t),
                      f"{t.number(grade.score, 'g')}/{t.number(grade.max_score, 'g')}",
                      escape(grade.problem or ""))
    console.print(table)
    console.print(t("cli.batch.done", graded=len(result.graded), skipped=len(result.skipped),
                    problems=len(result.problems), seconds=time.monotonic() - started,
                    path=str(path)), markup=False)
    for pair in pairs[:10]:
        console.print(f"[yellow]{escape(t('cli.batch.similar'))}[/] " + escape(t(
            "cli.batch.similar_pair", first=pair.first, second=pair.second, share=pair.score)))
    console.print(t("cli.batch.summary", path=str(summary)), markup=False)
    console.print(t("cli.batch.moodle_without_id", path=str(moodle), count=without_id)
                  if without_id else t("cli.batch.moodle", path=str(moodle)), markup=False)


def _status(status: str, t: Translator) -> str:
    """A gradebook status (graded, partial, failed, problem) as the reader's word for it."""
    word = t(f"batch.status.{status}")
    return status if word.startswith(f"batch.status.{status} ") else word


def _executor(name: str, backend: Backend, image: str | None, jobs: int, gpus: list[str],
              data_dir: Path | None, ray_address: str | None):
    if name == "local":
        return LocalExecutor(backend, jobs=jobs, gpus=gpus, data_dir=data_dir)
    if name == "ray":
        from runner.batch.ray_executor import RayExecutor

        return RayExecutor(backend.name if backend.name == "docker" else "local", image=image,
                           address=ray_address, jobs=jobs, data_dir=data_dir)
    raise NngradeError(msg("cli.error.unknown_executor", name=repr(name)),
                       hint=msg("cli.error.unknown_executor.hint"))


class _BatchProgress:
    """done / running / problems, with an ETA."""

    def __init__(self, total: int, t: Translator) -> None:
        self.t = t
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.completed}/{task.total}"),
                                 TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                                 disable=not console.is_terminal)
        self.task = self.progress.add_task(t("cli.batch.progress"), total=total)
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
                t = self.t
                console.print(f"{entry.student}: {_status(grade.status, t)} "
                              f"{t.number(grade.score, 'g')}/{t.number(grade.max_score, 'g')}",
                              markup=False)
        self.progress.update(self.task, description=self.t(
            "cli.batch.progress_counts", running=self.running, problems=self.problems))
