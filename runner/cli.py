"""The `nngrade` command line: a thin layer over the engine.

Exit status: 0 when a report was written (whatever the score), 1 when
`verify` found a grader that does not grade as it should, 2 for bad usage or
unreadable input, with a message that says what to do.
"""

from __future__ import annotations

# First: Typer's own words ("Options", "Usage") must be in place before Typer is imported.
from runner import cli_language  # isort: skip

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
from runner.cli_language import Command, Group, choose, help_text
from runner.cli_rescore import rescore
from runner.cli_review import review
from runner.errors import NngradeError
from runner.grading import grade as grade_notebook
from runner.i18n.language import choose_language
from runner.i18n.message import msg
from runner.i18n.render import Translator
from runner.paths import ProjectPaths
from runner.report.console import print_summary
from runner.report.model import Mode, Report
from runner.report.read import read_report
from runner.report.translate import in_language
from runner.report.write import write_report
from runner.sandbox.select import choose_backend, gpus_for
from runner.spec import local_text
from runner.verify import Case, CaseResult, cases, run_case

app = typer.Typer(
    cls=Group, help=help_text("cli.help.app"), no_args_is_help=True, add_completion=False,
    rich_markup_mode="rich", pretty_exceptions_enable=False)
console = Console()
errors = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", envvar="NNGRADE_DATA_DIR", help=help_text("cli.help.option.data_dir"))]
BackendOption = Annotated[str, typer.Option("--backend", help=help_text("cli.help.option.backend"))]
ImageOption = Annotated[str | None, typer.Option(
    "--image", envvar="NNGRADE_IMAGE", help=help_text("cli.help.option.image"))]
LangOption = Annotated[str | None, typer.Option(
    "--lang", help=help_text("cli.help.option.lang"))]
MessagesLangOption = Annotated[str | None, typer.Option(
    "--lang", help=help_text("cli.help.option.lang_messages"))]
GpusOption = Annotated[str | None, typer.Option(
    "--gpus", help=help_text("cli.help.option.gpus"))]
UnsafeOption = Annotated[bool, typer.Option(
    "--unsafe-no-sandbox", help=help_text("cli.help.option.unsafe_no_sandbox"))]


def _show_version(value: bool) -> None:
    if value:
        console.print(f"nngrade {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True,
        help=help_text("cli.help.option.version"))] = False,
          lang: MessagesLangOption = None) -> None:
    """The `nngrade` group; its help text is cli.help.app."""
    cli_language.given_before_command(lang)


app.add_typer(image_app, name="image")
app.add_typer(dataset_app, name="dataset")
app.command(cls=Command, help=help_text("cli.help.batch"))(batch)
app.command(cls=Command, help=help_text("cli.help.review"))(review)
app.command(cls=Command, help=help_text("cli.help.rescore"))(rescore)


@app.command("list", cls=Command, help=help_text("cli.help.list"))
def list_assignments(lang: MessagesLangOption = None) -> None:
    """List the assignments nngrade can grade."""
    t = Translator(choose(lang))
    table = Table(t("cli.list.id"), t("cli.list.name"), t("cli.list.frameworks"),
                  t("cli.list.points"), title=t("cli.list.title"))
    for assignment_id in assignments.available():
        spec = assignments.load(assignment_id).spec
        title = local_text(spec.title, choose_language(cli_language.flag(lang), spec.language))
        table.add_row(spec.id, title, ", ".join(spec.frameworks), t.number(spec.max_score, "g"))
    console.print(table)


@app.command(cls=Command, help=help_text("cli.help.show"))
def show(assignment_id: Annotated[str, typer.Argument(metavar="ID")],
         lang: Annotated[str | None, typer.Option(
             "--lang", help=help_text("cli.help.option.lang_show"))] = None) -> None:
    """Show an assignment's task text, limits and checks."""
    assignment = assignments.load(assignment_id)
    spec = assignment.spec
    language = choose(lang, spec.language)
    t = Translator(language)
    console.print(Markdown(assignment.task_text))
    table = Table(t("cli.show.check"), t("cli.show.points"), t("cli.show.public"),
                  t("cli.show.what"), title=t("cli.show.title"))
    for check in spec.checks:
        table.add_row(check.id, t.number(check.points, "g"),
                      t("cli.show.yes") if check.public else t("cli.show.no"),
                      local_text(check.title, language))
    console.print(table)
    if spec.rubric:
        written = Table(t("cli.show.check"), t("cli.show.points"), t("cli.show.what"),
                        title=t("cli.show.rubric"))
        for item in spec.rubric:
            written.add_row(item.id, t.number(item.points, "g"), local_text(item.title, language))
        console.print(written)
    limits = spec.limits
    console.print(t("cli.show.limits", total=limits.total_seconds, cell=limits.cell_seconds,
                    memory=limits.memory_mb, gpu=t(f"cli.show.gpu.{spec.gpu.value}"),
                    course=spec.course))


@app.command(cls=Command, help=help_text("cli.help.check"))
def check(
    assignment_id: Annotated[str, typer.Argument(metavar="ID")],
    notebook: Annotated[Path, typer.Argument(help=help_text("cli.help.check.notebook"))],
    out: Annotated[Path | None, typer.Option(help=help_text("cli.help.check.out"))] = None,
    data_dir: DataDir = None,
    backend: BackendOption = "auto",
    image: ImageOption = None,
    lang: LangOption = None,
) -> None:
    """Student mode: run your notebook and see what passes, before handing it in."""
    _grade(assignment_id, notebook, out or notebook.with_name(f"{notebook.stem}-check"),
           Mode.check, backend, data_dir, None, allow_unsandboxed=True, image=image, lang=lang)


@app.command(cls=Command, help=help_text("cli.help.grade"))
def grade(
    assignment_id: Annotated[str, typer.Argument(metavar="ID")],
    notebook: Annotated[Path, typer.Argument(help=help_text("cli.help.grade.notebook"))],
    out: Annotated[Path, typer.Option(help=help_text("cli.help.grade.out"))],
    data_dir: DataDir = None,
    backend: BackendOption = "auto",
    image: ImageOption = None,
    gpus: GpusOption = None,
    unsafe_no_sandbox: UnsafeOption = False,
    lang: LangOption = None,
) -> None:
    """Instructor mode: all checks, scored on the hidden test set."""
    _grade(assignment_id, notebook, out, Mode.grade, backend, data_dir, gpus,
           allow_unsandboxed=unsafe_no_sandbox, image=image, lang=lang)


@app.command(cls=Command, help=help_text("cli.help.verify"))
def verify(
    assignment_ids: Annotated[list[str] | None, typer.Argument(
        metavar="[ID]...", help=help_text("cli.help.verify.ids"))] = None,
    out: Annotated[Path | None, typer.Option(help=help_text("cli.help.verify.out"))] = None,
    data_dir: DataDir = None,
    backend: BackendOption = "auto",
    image: ImageOption = None,
    unsafe_no_sandbox: Annotated[bool, typer.Option("--unsafe-no-sandbox")] = False,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", min=1, help=help_text("cli.help.verify.jobs"))] = 1,
    lang: LangOption = None,
) -> None:
    """Grade every reference solution and fixture notebook; fail unless each gets its result."""
    language = choose(lang)  # several assignments: not one spec's language
    t = Translator(language)
    paths = ProjectPaths.default()
    chosen = choose_backend(backend, allow_unsandboxed=unsafe_no_sandbox, image=image)
    console.print(t("cli.verify.sandbox", name=chosen.name)
                  + (f" ({chosen.image})" if chosen.name == "docker" else ""))
    ids = assignment_ids or assignments.available(paths)
    loaded = {i: assignments.load(i, paths) for i in ids}
    todo = [case for i in ids for case in cases(i, paths)]
    table = Table(t("cli.verify.assignment"), t("cli.verify.notebook"), t("cli.verify.kind"),
                  t("cli.verify.score"), t("cli.verify.result"), title="nngrade verify")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="nngrade-verify-") as tmp:
        root = out or Path(tmp)

        def verify_one(number: int, case: Case) -> tuple[str, CaseResult]:
            label = f"[{number}/{len(todo)}] {case.assignment}/{case.name}"

            def grade_one(assignment, notebook, out_dir, *, mode):
                with _progress(label, language) if jobs == 1 else nullcontext() as on_progress:
                    return grade_notebook(
                        assignment, notebook, out_dir, mode=mode, backend=chosen,
                        data_dir=data_dir, gpus=gpus_for(assignment.spec.gpu, None),
                        on_progress=on_progress, language=cli_language.flag(lang))

            return label, run_case(case, loaded[case.assignment], root, grade_one,
                                   language=language)

        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="verify") as pool:
            done = [pool.submit(verify_one, number, case)
                    for number, case in enumerate(todo, start=1)]
            results = []
            for future in as_completed(done):
                label, result = future.result()
                results.append(result)
                report = result.report
                kind = t(f"cli.verify.kind.{result.case.kind}")
                if result.skipped:
                    console.print("[yellow]–[/] " + t("cli.verify.not_run", label=escape(label),
                                                      kind=kind, reason=escape(result.skipped)))
                    continue
                mark = "[green]✓[/]" if result.ok else "[red]✗[/]"
                console.print(f"{mark} " + (
                    t("cli.verify.graded", label=escape(label), kind=kind, score=report.score,
                      max=report.max_score, seconds=report.execution.seconds) if report
                    else f"{escape(label)} ({kind}): " + escape("; ".join(result.problems))))
        for result in sorted(results, key=lambda r: todo.index(r.case)):
            failures += not result.ok
            report = result.report
            verdict = ("[yellow]" + t("cli.verify.verdict.no_data") + "[/]" if result.skipped
                       else "[green]" + t("cli.verify.verdict.expected") + "[/]" if result.ok
                       else "[red]" + escape("; ".join(result.problems)) + "[/]")
            table.add_row(result.case.assignment, result.case.name,
                          t(f"cli.verify.kind.{result.case.kind}"),
                          f"{t.number(report.score, 'g')}/{t.number(report.max_score, 'g')}"
                          if report else "-", verdict)
    console.print(table)
    skipped = [r for r in results if r.skipped]
    for reason in sorted({r.skipped for r in skipped if r.skipped}):
        count = sum(r.skipped == reason for r in skipped)
        heading = t("cli.verify.not_run_heading", notebooks=msg("cli.verify.unit.notebook",
                                                                  n=count))
        console.print(f"[yellow]{heading}[/] "
                      + t("cli.verify.not_run_reason", reason=escape(reason)))
    if failures:
        errors.print(t("cli.verify.failures", failures=failures, total=len(todo)))
        raise typer.Exit(1)
    ran = len(todo) - len(skipped)
    console.print(t("cli.verify.all_as_expected", ran=ran) + (
        t("cli.verify.also_not_run", skipped=len(skipped)) if skipped else ""))


def _grade(assignment_id: str, notebook: Path, out: Path, mode: Mode, backend_name: str,
           data_dir: Path | None, gpus: str | None, *, allow_unsandboxed: bool,
           image: str | None, lang: str | None = None) -> Report:
    assignment = assignments.load(assignment_id)
    language = choose(lang, assignment.spec.language)
    chosen = choose_backend(backend_name, allow_unsandboxed=allow_unsandboxed, image=image)
    requested = None if gpus is None else [g for g in gpus.split(",") if g.strip()]
    with _progress(notebook.name, language) as on_progress:
        report = grade_notebook(assignment, notebook, out, mode=mode, backend=chosen,
                                data_dir=data_dir, gpus=gpus_for(assignment.spec.gpu, requested),
                                on_progress=on_progress, language=language)
    print_summary(report, console)
    console.print(Translator(language)("cli.report.written", path=str(out / "report.html")),
                  markup=False)
    return report


@app.command("report", cls=Command, help=help_text("cli.help.report"))
def report_command(
    report_json: Annotated[Path, typer.Argument(metavar="REPORT.json",
                                                help=help_text("cli.help.report.json"))],
    lang: Annotated[str, typer.Option("--lang", help=help_text("cli.help.report.lang"))],
    out: Annotated[Path | None, typer.Option(help=help_text("cli.help.report.out"))] = None,
) -> None:
    """Render a report again in another language, without grading again."""
    language = choose(lang)
    report = in_language(read_report(report_json), language)
    folder = out or report_json.parent
    write_report(report, folder)
    print_summary(report, console)
    console.print(Translator(language)("cli.report.written", path=str(folder / "report.html")),
                  markup=False)


@contextmanager
def _progress(label: str, language: str):
    """A live line per run: which cell is executing, and for how long."""
    t = Translator(language)
    label = escape(label)
    cells = t("cli.progress.cells", done="{task.completed}", total="{task.total}")
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               TextColumn(cells), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task(t("cli.progress.preparing", label=label), total=None)

        def on_progress(event: dict) -> None:
            kind = event.get("event")
            if kind == "start" and isinstance(event.get("cells"), int):
                progress.update(task, total=event["cells"],
                                description=t("cli.progress.running", label=label))
            elif kind == "cell" and isinstance(event.get("position"), int):
                progress.update(task, completed=event["position"], description=t(
                    "cli.progress.cell", label=label, number=event["position"] + 1))
            elif kind == "measure":
                progress.update(task, description=t("cli.progress.measuring", label=label))

        yield on_progress


def main() -> None:
    try:
        app()
    except NngradeError as error:
        language = cli_language.current()
        message, hint = error.in_language(language)
        prefix = Translator(language)("cli.error.prefix")
        errors.print(f"[bold red]{escape(prefix)}[/] {escape(message)}", markup=True,
                     highlight=False)
        if hint:
            errors.print(hint, markup=False, highlight=False)
        sys.exit(error.exit_code)
