"""Print a grading report's summary to a terminal with rich.

Everything is built from ``Text`` objects, never markup strings: a student's
error message containing ``[bold]`` or ``[/x]`` must print as written, not
restyle the terminal or raise a markup error.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from runner.report.cells import code_cell, code_cell_numbers
from runner.report.markdown import (
    FAIL_MARK,
    MISSING,
    MODEL_COLUMNS,
    PASS_MARK,
    describe_sandbox,
    failed_cells,
    fmt_points,
    fmt_seconds,
    main_metric,
    model_columns,
    model_row,
    one_line,
    plural,
    score_fraction,
)
from runner.report.model import CellOutcome, Report, Status

STATUS_STYLE = {Status.graded: "green", Status.partial: "yellow", Status.failed: "bold red"}


def _score_style(report: Report) -> str:
    fraction = score_fraction(report)
    return "bold green" if fraction >= 0.8 else "bold yellow" if fraction >= 0.5 else "bold red"


def _which(cells: list[CellOutcome], failed: list[CellOutcome]) -> str:
    """Which cells failed (": code cell 3"), numbered as the executed notebook shows them."""
    if not failed:
        return ""
    numbers = code_cell_numbers(c.index for c in cells)
    return ": " + ", ".join(code_cell(numbers[c.index]) for c in failed)


def _header(report: Report) -> Panel:
    run = report.execution
    failed = failed_cells(run.cells)
    lines = [
        Text.assemble((one_line(report.assignment_title, 80), "bold"), "  ",
                      (one_line(report.notebook, 80), "dim")),
        Text.assemble("Score ", (fmt_points(report.score, report.max_score),
                                 _score_style(report)),
                      "   Status ", (str(report.status), STATUS_STYLE[report.status]),
                      "   Mode ", str(report.mode)),
        Text.assemble(("Measured on: ", "dim"), one_line(report.evaluation_set, 120)),
        Text.assemble(("Sandbox: ", "dim"), describe_sandbox(report.sandbox)),
        Text.assemble(("Ran ", "dim"), f"{plural(len(run.cells), 'cell')} in "
                      f"{fmt_seconds(run.seconds)}, ",
                      (f"{len(failed)} failed{_which(run.cells, failed)}",
                       "red" if failed else "green")),
    ]
    if run.stopped:
        lines.append(Text.assemble(("Stopped early: ", "yellow"), one_line(run.stopped, 200)))
    return Panel(Group(*lines), title=Text(f"nngrade · {report.assignment}"),
                 title_align="left", border_style=STATUS_STYLE[report.status])


def _checks(report: Report) -> Table:
    table = Table(title="Checks", title_justify="left", box=box.SIMPLE_HEAD, expand=True)
    table.add_column("", width=1, no_wrap=True)
    table.add_column("Check", no_wrap=True, max_width=28, overflow="ellipsis")
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("Message", ratio=1)
    for c in report.checks:
        mark = Text(PASS_MARK, "bold green") if c.passed else Text(FAIL_MARK, "bold red")
        table.add_row(mark, Text(c.id), Text(fmt_points(c.points, c.max_points)),
                      Text(one_line(c.message, 400), "" if c.passed else "red"))
    return table


WIDE_CONSOLE = 110


def _models(report: Report, width: int) -> Table:
    # The input-format column is left to the files; it rarely fits a terminal line.
    # On narrow terminals framework and parameter count go too, so what is left stays legible.
    columns = model_columns(report)
    value = columns[MODEL_COLUMNS.index("Accuracy")]
    shown = ["Model", "Kind", "Conv channels", "Kernels", "Blocks", value]
    if width >= WIDE_CONSOLE:
        shown = ["Model", "Framework", *shown[1:5], "Params", value]
    table = Table(title="Measured models", title_justify="left", box=box.SIMPLE_HEAD)
    for name in shown:
        numeric = name in ("Blocks", "Params", value)
        table.add_column(name, justify="right" if numeric else "left",
                         no_wrap=name != "Model", ratio=1 if name == "Model" else None)
    for m in report.models:
        row = dict(zip(columns, model_row(m, main_metric(report)), strict=False))
        cells = [Text(row[name]) for name in shown]
        if m.error:
            cells[-1] = Text(MISSING, "red")
        elif row[value] != MISSING:
            cells[-1].stylize("bold")
        table.add_row(*cells)
    return table


def print_summary(report: Report, console: Console) -> None:
    """Header panel, checks and models; details stay in report.md / report.html."""
    console.print(_header(report))
    if report.checks:
        console.print(_checks(report))
    if report.models:
        console.print(_models(report, console.width))
    for m in report.models:
        if m.error:
            console.print(Text.assemble((f"{one_line(m.label, 40)}: ", "red"),
                                        one_line(m.error, 300)))
    for note in report.notes:
        console.print(Text.assemble(("note: ", "dim"), one_line(note, 400)))
