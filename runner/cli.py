"""The `nngrade` command line: a thin layer over the engine.

Exit status: 0 when a report was written (whatever the score), 1 when
`verify` found a grader that does not grade as it should, 2 for bad usage or
unreadable input, with a message that says what to do.
"""

from __future__ import annotations

import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from runner import __version__, assignments
from runner.cli_batch import batch
from runner.cli_dataset import dataset_app
from runner.cli_image import image_app
from runner.errors import NngradeError
from runner.grading import grade as grade_notebook
from runner.i18n.language import choose_language
from runner.paths import ProjectPaths
from runner.report.console import print_summary
from runner.report.model import Mode, Report
from runner.report.read import read_report
from runner.report.translate import in_language
from runner.report.write import write_report
from runner.sandbox.select import BACKEND_HELP, choose_backend, gpus_for
from runner.spec import local_text
from runner.verify import Case, CaseResult, cases, run_case

app = typer.Typer(
    help="Grade deep-learning homework notebooks in a sandbox, against hidden data.",
    no_args_is_help=True, add_completion=False, rich_markup_mode="rich",
    pretty_exceptions_enable=False)
console = Console()
errors = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", envvar="NNGRADE_DATA_DIR",
    help="Folder holding dataset files (e.g. the four Fashion-MNIST .gz files). "
         "Searched before /usr/share/datasets and the user cache.")]
BackendOption = Annotated[str, typer.Option("--backend", help=BACKEND_HELP)]
ImageOption = Annotated[str | None, typer.Option(
    "--image", envvar="NNGRADE_IMAGE",
    help="Grading image for --backend docker (default: nngrade-grader:latest).")]
LangOption = Annotated[str | None, typer.Option(
    "--lang", help="Language of the report and messages: ru or en (default: $NNGRADE_LANG, "
                   "else the assignment's language).")]
GpusOption = Annotated[str | None, typer.Option(
    "--gpus", help="GPU ids the run may use, e.g. '0' (default: the first visible one when "
                   "the assignment wants a GPU; '' for none).")]


def _show_version(value: bool) -> None:
    if value:
        console.print(f"nngrade {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True, help="Show the version.")] = False,
          ) -> None:
    """Grade deep-learning homework notebooks in a sandbox, against hidden data."""


app.add_typer(image_app, name="image")
app.add_typer(dataset_app, name="dataset")
app.command()(batch)


@app.command("list")
def list_assignments() -> None:
    """List the assignments nngrade can grade."""
    table = Table("id", "title", "frameworks", "points", title="Assignments")
    for assignment_id in assignments.available():
        spec = assignments.load(assignment_id).spec
        title = local_text(spec.title, choose_language(None, spec.language))
        table.add_row(spec.id, title, ", ".join(spec.frameworks), f"{spec.max_score:g}")
    console.print(table)


@app.command()
def show(assignment_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Show an assignment's task text, limits and checks."""
    assignment = assignments.load(assignment_id)
    spec = assignment.spec
    console.print(Markdown(assignment.task_text))
    table = Table("check", "points", "students see it", "what it checks", title="Checks")
    for check in spec.checks:
        table.add_row(check.id, f"{check.points:g}", "yes" if check.public else "no",
                      local_text(check.title, choose_language(None, spec.language)))
    console.print(table)
    limits = spec.limits
    console.print(f"Limits: {limits.total_seconds} s in all, {limits.cell_seconds} s per cell, "
                  f"{limits.memory_mb} MB memory; GPU: {spec.gpu}; source: {spec.course}")


@app.command()
def check(
    assignment_id: Annotated[str, typer.Argument(metavar="ID")],
    notebook: Annotated[Path, typer.Argument(help="Your .ipynb file.")],
    out: Annotated[Path | None, typer.Option(
        help="Report folder (default: NOTEBOOK-check/ next to the notebook).")] = None,
    data_dir: DataDir = None,
    backend: BackendOption = "auto",
    image: ImageOption = None,
    lang: LangOption = None,
) -> None:
    """Student mode: run your notebook and see what passes, before handing it in.

    Uses the public checks and the public held-out split only (no hidden data).
    Runs in a sandbox when one is available, and without one otherwise.
    """
    _grade(assignment_id, notebook, out or notebook.with_name(f"{notebook.stem}-check"),
           Mode.check, backend, data_dir, None, allow_unsandboxed=True, image=image, lang=lang)


@app.command()
def grade(
    assignment_id: Annotated[str, typer.Argument(metavar="ID")],
    notebook: Annotated[Path, typer.Argument(
        help="The submitted .ipynb file, or a .zip / .tar.gz holding one.")],
    out: Annotated[Path, typer.Option(help="Folder for report.json/.md/.html and the "
                                           "executed notebook.")],
    data_dir: DataDir = None,
    backend: BackendOption = "auto",
    image: ImageOption = None,
    gpus: GpusOption = None,
    unsafe_no_sandbox: Annotated[bool, typer.Option(
        "--unsafe-no-sandbox",
        help="Run without isolation when no sandbox works. Only for notebooks you trust: "
             "they could read the hidden labels.")] = False,
    lang: LangOption = None,
) -> None:
    """Instructor mode: all checks, scored on the hidden test set."""
    _grade(assignment_id, notebook, out, Mode.grade, backend, data_dir, gpus,
           allow_unsandboxed=unsafe_no_sandbox, image=image, lang=lang)


@app.command()
def verify(
    assignment_ids: Annotated[list[str] | None, typer.Argument(
        metavar="[ID]...", help="Assignments to verify (default: all).")] = None,
    out: Annotated[Path | None, typer.Option(help="Keep every report under this folder.")] = None,
    data_dir: DataDir = None,
    backend: BackendOption = "auto",
    image: ImageOption = None,
    unsafe_no_sandbox: Annotated[bool, typer.Option("--unsafe-no-sandbox")] = False,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", min=1, help="Notebooks graded at once (each in its own sandbox). "
        "With more than one, a line is printed as each finishes instead of progress bars.")
    ] = 1,
    lang: LangOption = None,
) -> None:
    """Grade every reference solution and fixture notebook; fail unless each gets its result.

    Reference solutions must earn full marks; each fixture must pass and fail the
    checks listed in its notebook metadata (metadata.nngrade.expect).
    """
    paths = ProjectPaths.default()
    chosen = choose_backend(backend, allow_unsandboxed=unsafe_no_sandbox, image=image)
    console.print(f"Sandbox: {chosen.name}" + (f" ({chosen.image})" if chosen.name == "docker"
                                               else ""))
    ids = assignment_ids or assignments.available(paths)
    loaded = {i: assignments.load(i, paths) for i in ids}
    todo = [case for i in ids for case in cases(i, paths)]
    table = Table("assignment", "notebook", "kind", "score", "result", title="nngrade verify")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="nngrade-verify-") as tmp:
        root = out or Path(tmp)

        def verify_one(number: int, case: Case) -> tuple[str, CaseResult]:
            label = f"[{number}/{len(todo)}] {case.assignment}/{case.name}"

            def grade_one(assignment, notebook, out_dir, *, mode):
                with _progress(label) if jobs == 1 else nullcontext() as on_progress:
                    return grade_notebook(
                        assignment, notebook, out_dir, mode=mode, backend=chosen,
                        data_dir=data_dir, gpus=gpus_for(assignment.spec.gpu, None),
                        on_progress=on_progress, language=lang)

            return label, run_case(case, loaded[case.assignment], root, grade_one)

        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="verify") as pool:
            done = [pool.submit(verify_one, number, case)
                    for number, case in enumerate(todo, start=1)]
            results = []
            for future in as_completed(done):
                label, result = future.result()
                results.append(result)
                report = result.report
                if result.skipped:
                    console.print(f"[yellow]–[/] {escape(label)} ({result.case.kind}): not run, "
                                  f"for lack of data: {escape(result.skipped)}")
                    continue
                mark = "[green]✓[/]" if result.ok else "[red]✗[/]"
                console.print(f"{mark} {escape(label)} ({result.case.kind}): " + (
                    f"{report.score:g}/{report.max_score:g} in {report.execution.seconds:.0f} s"
                    if report else escape("; ".join(result.problems))))
        for result in sorted(results, key=lambda r: todo.index(r.case)):
            failures += not result.ok
            report = result.report
            verdict = ("[yellow]not run: no data[/]" if result.skipped
                       else "[green]as expected[/]" if result.ok
                       else "[red]" + escape("; ".join(result.problems)) + "[/]")
            table.add_row(result.case.assignment, result.case.name, result.case.kind,
                          f"{report.score:g}/{report.max_score:g}" if report else "-", verdict)
    console.print(table)
    skipped = [r for r in results if r.skipped]
    for reason in sorted({r.skipped for r in skipped if r.skipped}):
        count = sum(r.skipped == reason for r in skipped)
        console.print(f"[yellow]not run ({count} notebook{'s' if count > 1 else ''}):[/] "
                      f"{escape(reason)}; pass --data-dir DIR to verify them")
    if failures:
        errors.print(f"{failures} of {len(todo)} notebooks were not graded as expected")
        raise typer.Exit(1)
    ran = len(todo) - len(skipped)
    console.print(f"all {ran} notebooks graded as expected" + (
        f"; {len(skipped)} not run for lack of data" if skipped else ""))


def _grade(assignment_id: str, notebook: Path, out: Path, mode: Mode, backend_name: str,
           data_dir: Path | None, gpus: str | None, *, allow_unsandboxed: bool,
           image: str | None, lang: str | None = None) -> Report:
    assignment = assignments.load(assignment_id)
    language = choose_language(lang, assignment.spec.language)
    chosen = choose_backend(backend_name, allow_unsandboxed=allow_unsandboxed, image=image)
    requested = None if gpus is None else [g for g in gpus.split(",") if g.strip()]
    with _progress(notebook.name) as on_progress:
        report = grade_notebook(assignment, notebook, out, mode=mode, backend=chosen,
                                data_dir=data_dir, gpus=gpus_for(assignment.spec.gpu, requested),
                                on_progress=on_progress, language=language)
    print_summary(report, console)
    console.print(f"Report: {out / 'report.html'}")
    return report


@app.command("report")
def report_command(
    report_json: Annotated[Path, typer.Argument(metavar="REPORT.json",
                                                help="A report.json that nngrade wrote.")],
    lang: Annotated[str, typer.Option("--lang", help="The language to render it in: ru or "
                                                     "en.")],
    out: Annotated[Path | None, typer.Option(
        help="Folder for the new report.json/.md/.html (default: the report's own folder, "
             "whose files are replaced).")] = None,
) -> None:
    """Render a report again in another language, without grading again."""
    language = choose_language(lang)
    report = in_language(read_report(report_json), language)
    folder = out or report_json.parent
    write_report(report, folder)
    print_summary(report, console)
    console.print(f"Report: {folder / 'report.html'}")


@contextmanager
def _progress(label: str):
    """A live line per run: which cell is executing, and for how long."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total} cells"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task(f"{label}: preparing", total=None)

        def on_progress(event: dict) -> None:
            kind = event.get("event")
            if kind == "start" and isinstance(event.get("cells"), int):
                progress.update(task, total=event["cells"], description=f"{label}: running")
            elif kind == "cell" and isinstance(event.get("position"), int):
                progress.update(task, completed=event["position"],
                                description=f"{label}: code cell {event['position'] + 1}")
            elif kind == "measure":
                progress.update(task, description=f"{label}: measuring models")

        yield on_progress


def main() -> None:
    try:
        app()
    except NngradeError as error:
        errors.print(f"[bold red]error:[/] {escape(error.message)}", markup=True,
                     highlight=False)
        if error.hint:
            errors.print(error.hint, markup=False, highlight=False)
        sys.exit(error.exit_code)
