"""Print a grading report's summary to a terminal with rich.

Everything is built from ``Text`` objects, never markup strings: a student's
error message containing ``[bold]`` or ``[/x]`` must print as written, not
restyle the terminal or raise a markup error. Words come from the catalogues,
in the report's language (see ``runner.report.markdown``).
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from runner.i18n.render import Translator
from runner.report.cells import code_cell, code_cell_numbers
from runner.report.markdown import (
    FAIL_MARK,
    METRIC_COLUMN,
    MISSING,
    MODEL_COLUMNS,
    PASS_MARK,
    describe_sandbox,
    failed_cells,
    fmt_points,
    main_metric,
    mode_word,
    model_columns,
    model_row,
    one_line,
    score_fraction,
    seconds_message,
    status_word,
)
from runner.report.model import CellOutcome, Report, Status

STATUS_STYLE = {Status.graded: "green", Status.partial: "yellow", Status.failed: "bold red"}


def _score_style(report: Report) -> str:
    fraction = score_fraction(report)
    return "bold green" if fraction >= 0.8 else "bold yellow" if fraction >= 0.5 else "bold red"


def _failed(cells: list[CellOutcome], failed: list[CellOutcome], t: Translator) -> str:
    """'1 failed: code cell 3', the cells numbered as the executed notebook shows them."""
    if not failed:
        return t("report.console.failed", failed=0)
    numbers = code_cell_numbers(c.index for c in cells)
    return t("report.console.failed_cells", failed=len(failed),
             cells=[code_cell(numbers[c.index]) for c in failed])


def _label(t: Translator, message_id: str) -> tuple[str, str]:
    return f"{t(message_id)}: ", "dim"


def _header(report: Report, t: Translator) -> Panel:
    run = report.execution
    failed = failed_cells(run.cells)
    lines = [
        Text.assemble((one_line(report.assignment_title, 80), "bold"), "  ",
                      (one_line(report.notebook, 80), "dim")),
        Text.assemble(f"{t('report.label.score')} ",
                      (fmt_points(report.score, report.max_score, t.language),
                       _score_style(report)),
                      f"   {t('report.label.status')} ",
                      (status_word(report.status, t.language), STATUS_STYLE[report.status]),
                      f"   {t('report.label.mode')} ", mode_word(report.mode, t.language)),
        Text.assemble(_label(t, "report.label.measured_on"),
                      one_line(report.evaluation_set, 120)),
        Text.assemble(_label(t, "report.label.sandbox"),
                      describe_sandbox(report.sandbox, t.language)),
        Text.assemble(t("report.console.ran", n=len(run.cells),
                        seconds=seconds_message(run.seconds)), ", ",
                      (_failed(run.cells, failed, t), "red" if failed else "green")),
    ]
    if run.stopped:
        lines.append(Text.assemble((f"{t('report.label.stopped')}: ", "yellow"),
                                   one_line(run.stopped, 200)))
    return Panel(Group(*lines), title=Text(f"nngrade · {report.assignment}"),
                 title_align="left", border_style=STATUS_STYLE[report.status])


def _checks(report: Report, t: Translator) -> Table:
    table = Table(title=t("report.heading.checks"), title_justify="left", box=box.SIMPLE_HEAD,
                  expand=True)
    table.add_column("", width=1, no_wrap=True)
    table.add_column(t("report.column.check"), no_wrap=True, max_width=28, overflow="ellipsis")
    table.add_column(t("report.column.points"), justify="right", no_wrap=True)
    table.add_column(t("report.column.message"), ratio=1)
    for c in report.checks:
        mark = Text(PASS_MARK, "bold green") if c.passed else Text(FAIL_MARK, "bold red")
        table.add_row(mark, Text(c.id), Text(fmt_points(c.points, c.max_points, t.language)),
                      Text(one_line(c.message, 400), "" if c.passed else "red"))
    return table


WIDE_CONSOLE = 110


def _models(report: Report, width: int, t: Translator) -> Table:
    # The input-format column is left to the files; it rarely fits a terminal line.
    # On narrow terminals framework and parameter count go too, so what is left stays legible.
    headings = dict(zip(MODEL_COLUMNS, model_columns(report, t.language), strict=True))
    shown = ["Model", "Kind", "Conv channels", "Kernels", "Blocks", METRIC_COLUMN]
    if width >= WIDE_CONSOLE:
        shown = ["Model", "Framework", *shown[1:5], "Params", METRIC_COLUMN]
    table = Table(title=t("report.heading.models"), title_justify="left", box=box.SIMPLE_HEAD)
    for key in shown:
        numeric = key in ("Blocks", "Params", METRIC_COLUMN)
        table.add_column(headings[key], justify="right" if numeric else "left",
                         no_wrap=key != "Model", ratio=1 if key == "Model" else None)
    for m in report.models:
        row = dict(zip(MODEL_COLUMNS, model_row(m, main_metric(report), t.language),
                       strict=True))
        cells = [Text(row[key]) for key in shown]
        if m.error:
            cells[-1] = Text(MISSING, "red")
        elif row[METRIC_COLUMN] != MISSING:
            cells[-1].stylize("bold")
        table.add_row(*cells)
    return table


def print_summary(report: Report, console: Console) -> None:
    """Header panel, checks and models, in ``report.language``; details stay in report.md
    / report.html."""
    t = Translator(report.language)
    console.print(_header(report, t))
    if report.checks:
        console.print(_checks(report, t))
    if report.models:
        console.print(_models(report, console.width, t))
    for m in report.models:
        if m.error:
            console.print(Text.assemble((f"{one_line(m.label, 40)}: ", "red"),
                                        one_line(m.error, 300)))
    for answer in report.answers:
        found = (t("report.answer.found", title=answer.title, text=one_line(answer.text, 160))
                 if answer.text else t("report.answer.missing", title=answer.title))
        console.print(Text.assemble((f"{t('report.label.answer')}: ",
                                     "green" if answer.text else "yellow"), found))
    for note in report.notes:
        console.print(Text.assemble(_label(t, "report.label.note"),
                                    one_line(note, 400)))
