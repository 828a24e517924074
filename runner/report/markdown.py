"""Render a grading report as Markdown, the copy a student reads first.

The plain-text formatters at the top are shared with the HTML and console
renderers so that all three show the same numbers the same way. Strings that
came out of student code (notebook names, error messages, model labels) are
cleaned of terminal escapes here and escaped for Markdown, so a hostile
submission cannot inject links, HTML or broken tables into its own report.

Every word a reader sees comes from the ``report.*`` messages of the catalogues
(``runner/i18n/locales/<language>/report.po``), in the report's own language;
numbers are written as that language writes them (``7,5 / 10`` in Russian).
Texts the report already holds rendered (check messages, titles, notes, the
evaluation set, errors) are shown as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from babel.numbers import get_decimal_symbol

from runner.baselines import short_name
from runner.i18n.catalogue import SOURCE_LANGUAGE
from runner.i18n.message import Message, as_message, msg
from runner.i18n.render import Translator, number, render
from runner.metrics import METRICS, TASK_METRICS, Metric
from runner.report.cells import code_cell, code_cell_numbers
from runner.report.model import CellOutcome, ModelSummary, Report, SandboxInfo

PASS_MARK = "✓"
FAIL_MARK = "✗"
MISSING = "—"
ERROR_TAIL_LINES = 30
ENGLISH = SOURCE_LANGUAGE  # the language where a caller names none

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Runs of whitespace but the no-break spaces that group a number's digits (1 234 567).
_SPACES = re.compile(r"[^\S\xa0\u202f]+")
# Characters that could start markup mid-line; an underscore only at a word edge, since
# CommonMark ignores intraword ones and ids like fashion_mnist_cnn should stay readable.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|~&$]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")


# --- words in the reader's language --------------------------------------------------------


def words(value: Message | dict[str, Any] | str | None, language: str = ENGLISH) -> str:
    """A message rendered in ``language``; text that is already words, as it is."""
    message = as_message(value)
    if message is not None:
        return render(message, language)
    return "" if value is None else str(value)


def capitalised(text: str) -> str:
    """The first letter upper-case, the rest untouched ("RMSE", "ячейка кода 3")."""
    return text[:1].upper() + text[1:]


def status_word(status: str, language: str = ENGLISH) -> str:
    """graded, partial, failed in ``language``."""
    return render(msg(f"report.status.{status}"), language)


def mode_word(mode: str, language: str = ENGLISH) -> str:
    """check, grade in ``language``."""
    return render(msg(f"report.mode.{mode}"), language)


CELL_STATUSES = ("ok", "error", "timeout", "skipped", "kernel-died")


def cell_status(status: str) -> Message | str:
    """A cell's status in words; one nngrade does not know is shown as it is."""
    if status in CELL_STATUSES:
        return msg("report.cell_status." + status.replace("-", "_"))
    return status


def code_cell_heading(number: int, language: str = ENGLISH) -> str:
    """A cell named at the start of a line: 'Code cell 3' ('Ячейка кода 3')."""
    return capitalised(words(code_cell(number), language))


# --- plain-text formatting shared by every renderer -------------------------------------


def clean_text(text: str) -> str:
    """Drop ANSI colours and control characters that tracebacks carry from the kernel."""
    text = _ANSI.sub("", text.replace("\r\n", "\n"))
    return _CONTROL.sub("", text.replace("\r", "\n"))


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace so a value fits one table cell, cut at ``limit`` characters."""
    flat = _SPACES.sub(" ", clean_text(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def tail(text: str, lines: int = ERROR_TAIL_LINES, language: str = ENGLISH) -> str:
    """Keep the end of a traceback, where the error itself is."""
    rows = clean_text(text).rstrip().splitlines()
    if len(rows) <= lines:
        return "\n".join(rows)
    omitted = render(msg("report.error.omitted", n=len(rows) - lines), language)
    return "\n".join([omitted, *rows[-lines:]])


def fmt_num(value: float, language: str = ENGLISH) -> str:
    """Points without float noise: 2.0 -> '2', 7.25 -> '7.25' ('7,25' in Russian)."""
    text, decimal = number(value, ".2f", language), get_decimal_symbol(language)
    if decimal in text:  # 7.50 -> 7.5, 2.00 -> 2
        text = text.rstrip("0").removesuffix(decimal)
    return "0" if text == "-0" else text


def fmt_points(points: float, max_points: float, language: str = ENGLISH) -> str:
    """'7.5 / 10' ('7,5 / 10' in Russian)."""
    return render(msg("report.points", points=fmt_num(points, language),
                      max_points=fmt_num(max_points, language)), language)


def fmt_accuracy(accuracy: float | None, language: str = ENGLISH) -> str:
    return MISSING if accuracy is None else number(accuracy, ".1%", language)


def fmt_params(params: int, language: str = ENGLISH) -> str:
    return number(params, ",", language)


def fmt_ints(values: Iterable[int]) -> str:
    text = ", ".join(str(v) for v in values)
    return text or MISSING


def seconds_message(seconds: float) -> Message:
    """'184.2 s' ('184,2 с') as a message, to nest in a sentence."""
    return msg("report.seconds", seconds=seconds)


def fmt_seconds(seconds: float | None, language: str = ENGLISH) -> str:
    return MISSING if seconds is None else render(seconds_message(seconds), language)


def score_fraction(report: Report) -> float:
    return report.score / report.max_score if report.max_score > 0 else 0.0


def describe_sandbox(sandbox: SandboxInfo, language: str = ENGLISH) -> str:
    """One line a student can check: was their code isolated, and under which limits."""
    t = Translator(language)
    parts = [sandbox.backend,
             t("report.sandbox.isolated" if sandbox.isolated else "report.sandbox.not_isolated"),
             t("report.sandbox.network" if sandbox.network else "report.sandbox.no_network")]
    if sandbox.image:
        parts.append(t("report.sandbox.image", image=sandbox.image))
    text = ", ".join(parts)
    if sandbox.limits:
        text = t("report.sandbox.limits", sandbox=text,
                 limits=[f"{k}={v}" for k, v in sorted(sandbox.limits.items())])
    return text


def failed_cells(cells: Iterable[CellOutcome]) -> list[CellOutcome]:
    """Cells worth a student's attention: anything that did not simply run."""
    return [c for c in cells if c.status not in ("ok", "skipped")]


def describe_baselines(report: Report, language: str | None = None) -> str:
    """'seasonal naive forecast: RMSE 76.99; naive forecast: RMSE 130.41'."""
    language = language or report.language
    metric = main_metric(report)
    parts = []
    for name, values in report.baselines.items():
        if metric.name in values:
            parts.append(render(msg("report.baselines.item",
                                    baseline=words(short_name(name), language),
                                    metric=words(metric.title, language),
                                    value=words(metric.show(values[metric.name]), language)),
                                language))
    return "; ".join(parts)


def main_metric(report: Report) -> Metric:
    """The metric the models table shows: the first of the report's task."""
    return METRICS[TASK_METRICS.get(report.task, ("accuracy",))[0]]


MODEL_COLUMNS = ["#", "Model", "Framework", "Kind", "Conv channels", "Kernels", "Blocks",
                 "Params", "Accuracy", "Input format"]
"""The models table's columns, as keys; ``model_columns`` gives their headings."""

METRIC_COLUMN = "Accuracy"
"""The key of the column that shows the task's main metric."""

_COLUMN_IDS = {"#": "index", "Model": "model", "Framework": "framework", "Kind": "kind",
               "Conv channels": "conv_channels", "Kernels": "kernels", "Blocks": "blocks",
               "Params": "params", "Input format": "input_format"}


def model_columns(report: Report, language: str | None = None) -> list[str]:
    """Headings of the models table, in ``MODEL_COLUMNS`` order, the task's metric named."""
    t = Translator(language or report.language)
    metric = capitalised(words(main_metric(report).title, t.language))
    return [metric if key == METRIC_COLUMN else t("report.column." + _COLUMN_IDS[key])
            for key in MODEL_COLUMNS]


def fmt_metric(metric: Metric, value: float | None, language: str = ENGLISH) -> str:
    if value is None:
        return MISSING
    if metric.name == "accuracy":
        return fmt_accuracy(value, language)
    return words(metric.show(value), language)


def model_row(model: ModelSummary, metric: Metric | None = None,
              language: str = ENGLISH) -> list[str]:
    """The models-table cells, in ``MODEL_COLUMNS`` order, unescaped."""
    metric = metric or METRICS["accuracy"]
    value = model.metrics.get(metric.name, model.accuracy if metric.name == "accuracy" else None)
    return [
        str(model.index),
        one_line(model.label, 60),
        model.framework,
        model.kind,
        fmt_ints(model.conv_channels),
        fmt_ints(model.conv_kernels),
        str(model.conv_pool_blocks) if model.kind == "cnn" else MISSING,
        fmt_params(model.params, language),
        fmt_metric(metric, value, language),
        one_line(model.input_format, 80) if model.input_format else MISSING,
    ]


# --- Markdown ------------------------------------------------------------------------------


def md_escape(text: str, limit: int = 300) -> str:
    """One line of untrusted text, safe inside a paragraph or a table cell."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text, limit))


def _code_block(text: str) -> str:
    """Fence a block with more backticks than it contains, so it cannot break out."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _code_span(text: str) -> str:
    """Inline code that survives backticks in ``text``; not for table cells (pipes)."""
    flat = one_line(text, 200)
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    tick = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{tick}{pad}{flat}{pad}{tick}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def _header(report: Report, t: Translator) -> list[str]:
    lang = t.language
    return [
        "# " + t("report.title", title=md_escape(report.assignment_title)),
        "",
        f"**{t('report.label.score')}: {fmt_points(report.score, report.max_score, lang)}** · "
        f"{t('report.label.status')}: **{status_word(report.status, lang)}** · "
        f"{t('report.label.mode')}: {mode_word(report.mode, lang)}",
        "",
        f"- {t('report.label.assignment')}: {md_escape(report.assignment)}",
        f"- {t('report.label.notebook')}: {md_escape(report.notebook)}",
        f"- {t('report.label.measured_on')}: {md_escape(report.evaluation_set)}",
        *([f"- {t('report.label.without_model')}: "
           f"{md_escape(describe_baselines(report, lang))}"] if report.baselines else []),
        f"- {t('report.label.sandbox')}: {md_escape(describe_sandbox(report.sandbox, lang))}",
        "- " + t("report.header.grader", version=md_escape(report.grader_version),
                 sha=report.submission_sha256[:12],
                 created=report.created.isoformat(timespec="seconds")),
    ]


def _checks(report: Report, t: Translator) -> list[str]:
    heading = "## " + t("report.heading.checks")
    if not report.checks:
        return [heading, "", t("report.checks.none")]
    hidden = " · " + t("report.checks.hidden")
    rows = [
        [PASS_MARK if c.passed else FAIL_MARK,
         f"{md_escape(c.title)} ({md_escape(c.id)})" + ("" if c.public else hidden),
         fmt_points(c.points, c.max_points, t.language),
         md_escape(c.message, 1000)]
        for c in report.checks
    ]
    passed = sum(c.passed for c in report.checks)
    columns = ["", t("report.column.check"), t("report.column.points"),
               t("report.column.message")]
    return [heading, "", t("report.checks.passed", passed=passed, total=len(report.checks)),
            "", *_table(columns, rows)]


def _models(report: Report, t: Translator) -> list[str]:
    if not report.models:
        return []
    metric = main_metric(report)
    rows = [[md_escape(cell) for cell in model_row(m, metric, t.language)]
            for m in report.models]
    lines = ["## " + t("report.heading.models"), "",
             *_table([md_escape(c) for c in model_columns(report, t.language)], rows)]
    broken = [m for m in report.models if m.error]
    if broken:
        lines += ["", t("report.label.unmeasured") + ":", ""]
        lines += [f"- {md_escape(m.label, 60)}: {md_escape(m.error or '', 500)}" for m in broken]
    return lines


def _execution(report: Report, t: Translator) -> list[str]:
    run = report.execution
    failed = failed_cells(run.cells)
    lines = ["## " + t("report.heading.execution"), "",
             t("report.execution.ran", n=len(run.cells), seconds=seconds_message(run.seconds),
               failed=len(failed))]
    if run.export_seconds is not None or run.clean_room_seconds is not None:
        clean_room = (msg("report.execution.clean_room_not_run")
                      if run.clean_room_seconds is None
                      else seconds_message(run.clean_room_seconds))
        lines += ["", t("report.execution.export", export=seconds_message(run.export_seconds or 0),
                        clean_room=clean_room)]
    if run.stopped:
        lines += ["", f"{t('report.label.stopped')}: {md_escape(run.stopped, 500)}"]
    if failed:
        lines += ["", "### " + t("report.heading.failed_cells"), ""]
        numbers = code_cell_numbers(c.index for c in run.cells)
        for cell in failed:
            status = md_escape(words(cell_status(cell.status), t.language))
            lines.append("- " + t("report.execution.cell",
                                  cell=code_cell_heading(numbers[cell.index], t.language),
                                  status=status, seconds=fmt_seconds(cell.seconds, t.language)))
            if cell.error:
                lines += ["", _indent(_code_block(tail(cell.error, language=t.language))), ""]
    if run.neutralised:
        lines += ["", "### " + t("report.heading.neutralised"), "",
                  t("report.execution.neutralised"), ""]
        lines += [f"- {_code_span(line)}" for line in run.neutralised]
    return lines


def _notes(report: Report, t: Translator) -> list[str]:
    if not report.notes:
        return []
    return ["## " + t("report.heading.notes"), "",
            *(f"- {md_escape(note, 1000)}" for note in report.notes)]


def _answers(report: Report, t: Translator) -> list[str]:
    """Written answers as found, fenced: a student's text cannot become Markdown here."""
    if not report.answers:
        return []
    lines = [f"## {t('report.heading.answers')}", "", t("report.answers.intro"), ""]
    for answer in report.answers:
        lines += [f"### {md_escape(answer.title)} "
                  f"({t('report.answers.points', points=answer.points)})", ""]
        lines += [_code_block(answer.text) if answer.text
                  else md_escape(t("report.answer.missing", title=answer.title), 400), ""]
    return lines


def render_markdown(report: Report) -> str:
    """The whole report as GitHub-flavoured Markdown, in ``report.language``; same report,
    same bytes."""
    t = Translator(report.language)
    lines: list[str] = []
    for section in (_header(report, t), _checks(report, t), _models(report, t),
                    _answers(report, t), _execution(report, t), _notes(report, t)):
        if section:
            lines += [*section, ""]
    # Collapse runs of blank list entries; blank lines inside code blocks are left alone.
    tidy = [line for i, line in enumerate(lines) if line or (i > 0 and lines[i - 1])]
    return "\n".join(tidy).rstrip() + "\n"
