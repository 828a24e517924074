"""Render a grading report as Markdown, the copy a student reads first.

The plain-text formatters at the top are shared with the HTML and console
renderers so that all three show the same numbers the same way. Strings that
came out of student code (notebook names, error messages, model labels) are
cleaned of terminal escapes here and escaped for Markdown, so a hostile
submission cannot inject links, HTML or broken tables into its own report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from runner.baselines import short_name
from runner.metrics import METRICS, TASK_METRICS, Metric
from runner.report.cells import code_cell, code_cell_numbers
from runner.report.model import CellOutcome, ModelSummary, Report, SandboxInfo

PASS_MARK = "✓"
FAIL_MARK = "✗"
MISSING = "—"
ERROR_TAIL_LINES = 30

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters that could start markup mid-line; an underscore only at a word edge, since
# CommonMark ignores intraword ones and ids like fashion_mnist_cnn should stay readable.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|~&$]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")


# --- plain-text formatting shared by every renderer -------------------------------------


def clean_text(text: str) -> str:
    """Drop ANSI colours and control characters that tracebacks carry from the kernel."""
    text = _ANSI.sub("", text.replace("\r\n", "\n"))
    return _CONTROL.sub("", text.replace("\r", "\n"))


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace so a value fits one table cell, cut at ``limit`` characters."""
    flat = " ".join(clean_text(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def tail(text: str, lines: int = ERROR_TAIL_LINES) -> str:
    """Keep the end of a traceback, where the error itself is."""
    rows = clean_text(text).rstrip().splitlines()
    if len(rows) <= lines:
        return "\n".join(rows)
    return "\n".join([f"… ({len(rows) - lines} earlier lines omitted)", *rows[-lines:]])


def fmt_num(value: float) -> str:
    """Points without float noise: 2.0 -> '2', 7.25 -> '7.25'."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def fmt_points(points: float, max_points: float) -> str:
    return f"{fmt_num(points)} / {fmt_num(max_points)}"


def fmt_accuracy(accuracy: float | None) -> str:
    return MISSING if accuracy is None else f"{accuracy:.1%}"


def fmt_params(params: int) -> str:
    return f"{params:,}"


def fmt_ints(values: Iterable[int]) -> str:
    text = ", ".join(str(v) for v in values)
    return text or MISSING


def fmt_seconds(seconds: float | None) -> str:
    return MISSING if seconds is None else f"{seconds:.1f} s"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def score_fraction(report: Report) -> float:
    return report.score / report.max_score if report.max_score > 0 else 0.0


def describe_sandbox(sandbox: SandboxInfo) -> str:
    """One line a student can check: was their code isolated, and under which limits."""
    parts = [sandbox.backend, "isolated" if sandbox.isolated else "NOT isolated",
             "network on" if sandbox.network else "no network"]
    if sandbox.image:
        parts.append(f"image {sandbox.image}")
    text = ", ".join(parts)
    if sandbox.limits:
        text += "; limits: " + ", ".join(f"{k}={v}" for k, v in sorted(sandbox.limits.items()))
    return text


def failed_cells(cells: Iterable[CellOutcome]) -> list[CellOutcome]:
    """Cells worth a student's attention: anything that did not simply run."""
    return [c for c in cells if c.status not in ("ok", "skipped")]


def describe_baselines(report: Report) -> str:
    """'seasonal naive forecast: RMSE 76.99; naive forecast: RMSE 130.41'."""
    metric = main_metric(report)
    parts = []
    for name, values in report.baselines.items():
        if metric.name in values:
            words = short_name(name)
            parts.append(f"{words}: {metric.title} {metric.show(values[metric.name])}")
    return "; ".join(parts)


def main_metric(report: Report) -> Metric:
    """The metric the models table shows: the first of the report's task."""
    return METRICS[TASK_METRICS.get(report.task, ("accuracy",))[0]]


def model_columns(report: Report) -> list[str]:
    """Header of the models table: ``MODEL_COLUMNS`` with the task's metric."""
    title = main_metric(report).title
    return [title[:1].upper() + title[1:] if c == "Accuracy" else c for c in MODEL_COLUMNS]


def fmt_metric(metric: Metric, value: float | None) -> str:
    if value is None:
        return MISSING
    return fmt_accuracy(value) if metric.name == "accuracy" else metric.show(value)


def model_row(model: ModelSummary, metric: Metric | None = None) -> list[str]:
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
        fmt_params(model.params),
        fmt_metric(metric, value),
        one_line(model.input_format, 80) if model.input_format else MISSING,
    ]


MODEL_COLUMNS = ["#", "Model", "Framework", "Kind", "Conv channels", "Kernels", "Blocks",
                 "Params", "Accuracy", "Input format"]


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


def _header(report: Report) -> list[str]:
    return [
        f"# Grading report: {md_escape(report.assignment_title)}",
        "",
        f"**Score: {fmt_points(report.score, report.max_score)}** · "
        f"Status: **{report.status}** · Mode: {report.mode}",
        "",
        f"- Assignment: {md_escape(report.assignment)}",
        f"- Notebook: {md_escape(report.notebook)}",
        f"- Measured on: {md_escape(report.evaluation_set)}",
        *([f"- Without a model: {md_escape(describe_baselines(report))}"]
          if report.baselines else []),
        f"- Sandbox: {md_escape(describe_sandbox(report.sandbox))}",
        f"- Grader {md_escape(report.grader_version)} · submission sha256 "
        f"{report.submission_sha256[:12]} · {report.created.isoformat(timespec='seconds')}",
    ]


def _checks(report: Report) -> list[str]:
    if not report.checks:
        return ["## Checks", "", "No checks were run."]
    rows = [
        [PASS_MARK if c.passed else FAIL_MARK,
         f"{md_escape(c.title)} ({md_escape(c.id)})" + ("" if c.public else " · hidden"),
         fmt_points(c.points, c.max_points),
         md_escape(c.message, 1000)]
        for c in report.checks
    ]
    passed = sum(c.passed for c in report.checks)
    return ["## Checks", "", f"{passed} of {len(report.checks)} passed.", "",
            *_table(["", "Check", "Points", "Message"], rows)]


def _models(report: Report) -> list[str]:
    if not report.models:
        return []
    metric = main_metric(report)
    rows = [[md_escape(cell) for cell in model_row(m, metric)] for m in report.models]
    lines = ["## Measured models", "", *_table(model_columns(report), rows)]
    broken = [m for m in report.models if m.error]
    if broken:
        lines += ["", "Could not be measured:", ""]
        lines += [f"- {md_escape(m.label, 60)}: {md_escape(m.error or '', 500)}" for m in broken]
    return lines


def _execution(report: Report) -> list[str]:
    run = report.execution
    failed = failed_cells(run.cells)
    lines = ["## Execution", "",
             f"Ran {plural(len(run.cells), 'cell')} in {fmt_seconds(run.seconds)}; "
             f"{len(failed)} failed."]
    if run.export_seconds is not None or run.clean_room_seconds is not None:
        lines += ["", "Of which exporting the models: "
                  f"{fmt_seconds(run.export_seconds or 0)}; then the clean room: "
                  + (fmt_seconds(run.clean_room_seconds) if run.clean_room_seconds is not None
                     else "not run") + "."]
    if run.stopped:
        lines += ["", f"Stopped early: {md_escape(run.stopped, 500)}"]
    if failed:
        lines += ["", "### Cells that failed", ""]
        numbers = code_cell_numbers(c.index for c in run.cells)
        for cell in failed:
            lines.append(f"- {code_cell(numbers[cell.index]).capitalize()}: "
                         f"{md_escape(cell.status)} ({fmt_seconds(cell.seconds)})")
            if cell.error:
                lines += ["", _indent(_code_block(tail(cell.error))), ""]
    if run.neutralised:
        lines += ["", "### Lines not run", "",
                  "The grader's environment already provides what these lines set up:", ""]
        lines += [f"- {_code_span(line)}" for line in run.neutralised]
    return lines


def _notes(report: Report) -> list[str]:
    if not report.notes:
        return []
    return ["## Notes", "", *(f"- {md_escape(note, 1000)}" for note in report.notes)]


def render_markdown(report: Report) -> str:
    """The whole report as GitHub-flavoured Markdown; same report, same bytes."""
    lines: list[str] = []
    for section in (_header(report), _checks(report), _models(report), _execution(report),
                    _notes(report)):
        if section:
            lines += [*section, ""]
    # Collapse runs of blank list entries; blank lines inside code blocks are left alone.
    tidy = [line for i, line in enumerate(lines) if line or (i > 0 and lines[i - 1])]
    return "\n".join(tidy).rstrip() + "\n"
