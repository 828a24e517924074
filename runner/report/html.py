"""Render a grading report as one self-contained HTML page.

The page is a single file a student can open offline or an instructor can
attach to feedback: inline CSS, inline SVG plots, no scripts, no external
requests. Every string that may come from student code is escaped, and a
Content-Security-Policy forbids scripts anyway, in case a future edit forgets.
"""

from __future__ import annotations

from html import escape

from runner.measurements import Layer
from runner.report.cells import code_cell, code_cell_numbers
from runner.report.markdown import (
    FAIL_MARK,
    MISSING,
    MODEL_COLUMNS,
    PASS_MARK,
    clean_text,
    describe_baselines,
    describe_sandbox,
    failed_cells,
    fmt_ints,
    fmt_params,
    fmt_points,
    fmt_seconds,
    main_metric,
    model_columns,
    model_row,
    one_line,
    plural,
    score_fraction,
    tail,
)
from runner.report.model import ModelSummary, Report
from runner.report.plots import make_plots

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root { --ok: #276749; --ok-bg: #f0fff4; --bad: #9b2c2c; --bad-bg: #fff5f5;
        --warn: #975a16; --muted: #4a5568; --line: #e2e8f0; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a202c;
       max-width: 1040px; margin: 0 auto; padding: 24px; background: #fff; }
header { display: flex; gap: 24px; align-items: center; justify-content: space-between;
         border-bottom: 1px solid var(--line); padding-bottom: 16px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 32px 0 8px; }
.sub { color: var(--muted); margin: 0; }
.badge { text-align: center; border-radius: 12px; padding: 10px 18px; min-width: 140px;
         border: 2px solid currentColor; }
.badge .score { font-size: 2em; font-weight: 700; line-height: 1.1; white-space: nowrap; }
.badge .status { font-size: .85em; text-transform: uppercase; letter-spacing: .06em; }
.good { color: var(--ok); background: var(--ok-bg); }
.fair { color: var(--warn); background: #fffaf0; }
.poor { color: var(--bad); background: var(--bad-bg); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 16px 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-size: .92em; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left;
         vertical-align: top; }
th { background: #f7fafc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.pass td.mark { color: var(--ok); background: var(--ok-bg); font-weight: 700; }
tr.fail td.mark { color: var(--bad); background: var(--bad-bg); font-weight: 700; }
tr.fail td { background: #fffafa; }
.tag { font-size: .75em; color: var(--muted); border: 1px solid var(--line); border-radius: 4px;
       padding: 0 4px; margin-left: 4px; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
            font-size: .88em; }
pre { background: #f7fafc; border: 1px solid var(--line); border-radius: 6px; padding: 8px;
      overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
details { margin: 8px 0; }
summary { cursor: pointer; font-weight: 600; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .85em; }
.error { color: var(--bad); }
footer { margin-top: 40px; color: var(--muted); font-size: .8em; }
"""


def _e(text: object) -> str:
    """Escape for element content and quoted attributes, after dropping terminal junk."""
    return escape(clean_text(str(text)), quote=True)


def _grade_class(report: Report) -> str:
    fraction = score_fraction(report)
    return "good" if fraction >= 0.8 else "fair" if fraction >= 0.5 else "poor"


def _header(report: Report) -> str:
    baselines = (f"\n<dt>Without a model</dt><dd>{_e(describe_baselines(report))}</dd>"
                 if report.baselines else "")
    return f"""<header>
<div>
<h1>{_e(report.assignment_title)}</h1>
<p class="sub">Grading report for <code>{_e(report.notebook)}</code></p>
</div>
<div class="badge {_grade_class(report)}" role="status">
<div class="score">{_e(fmt_points(report.score, report.max_score))}</div>
<div class="status">{_e(report.status)}</div>
</div>
</header>
<dl class="meta">
<dt>Assignment</dt><dd><code>{_e(report.assignment)}</code></dd>
<dt>Mode</dt><dd>{_e(report.mode)}</dd>
<dt>Measured on</dt><dd>{_e(report.evaluation_set)}</dd>{baselines}
<dt>Sandbox</dt><dd>{_e(describe_sandbox(report.sandbox))}</dd>
<dt>Grader</dt><dd>{_e(report.grader_version)}</dd>
<dt>Submission sha256</dt><dd><code>{_e(report.submission_sha256)}</code></dd>
<dt>Graded at</dt><dd>{_e(report.created.isoformat(timespec="seconds"))}</dd>
</dl>"""


def _checks(report: Report) -> str:
    if not report.checks:
        return "<h2>Checks</h2>\n<p>No checks were run.</p>"
    rows = []
    for c in report.checks:
        hidden = "" if c.public else '<span class="tag">hidden</span>'
        rows.append(
            f'<tr class="{"pass" if c.passed else "fail"}">'
            f'<td class="mark" aria-label="{"passed" if c.passed else "failed"}">'
            f"{PASS_MARK if c.passed else FAIL_MARK}</td>"
            f"<td>{_e(c.title)}{hidden}<br><code>{_e(c.id)}</code></td>"
            f'<td class="num">{_e(fmt_points(c.points, c.max_points))}</td>'
            f"<td>{_e(c.message)}</td></tr>")
    passed = sum(c.passed for c in report.checks)
    return (f"<h2>Checks</h2>\n<p>{passed} of {len(report.checks)} passed.</p>\n"
            '<table>\n<thead><tr><th></th><th>Check</th><th class="num">Points</th>'
            "<th>Message</th></tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody></table>")


_NUMERIC = {"#", "Blocks", "Params", "Accuracy"}


def _layers(layers: list[Layer]) -> str:
    rows = "\n".join(
        f"<tr><td>{_e(layer.kind)}</td><td>{_e(layer.type)}</td><td>{_e(layer.name)}</td>"
        f'<td class="num">{MISSING if layer.channels is None else layer.channels}</td>'
        f"<td>{_e(fmt_ints(layer.kernel_size or []))}</td>"
        f'<td class="num">{_e(fmt_params(layer.params))}</td>'
        f"<td>{_e(MISSING if layer.output_shape is None else layer.output_shape)}</td></tr>"
        for layer in layers)
    return ("<table><thead><tr><th>Kind</th><th>Type</th><th>Name</th>"
            '<th class="num">Channels</th><th>Kernel</th><th class="num">Params</th>'
            "<th>Output shape</th></tr></thead>\n<tbody>\n" + rows + "\n</tbody></table>")


def _model_details(model: ModelSummary) -> str:
    parts = [f"<details><summary>Layers of {_e(one_line(model.label, 60))} "
             f"({len(model.layers)})</summary>"]
    if model.error:
        parts.append(f'<p class="error">Could not be measured: {_e(model.error)}</p>')
    if model.graph:
        parts.append(f"<p>Exported ONNX graph: {_e(one_line(model.graph, 300))}</p>")
    if model.layers:
        parts.append(_layers(model.layers))
    parts.append("</details>")
    return "\n".join(parts)


def _models(report: Report) -> str:
    if not report.models:
        return ""
    columns = model_columns(report)
    numeric = {*_NUMERIC, columns[MODEL_COLUMNS.index("Accuracy")]}
    head = "".join(f'<th class="num">{_e(c)}</th>' if c in numeric else f"<th>{_e(c)}</th>"
                   for c in columns)
    rows = []
    for m in report.models:
        cells = "".join(
            f'<td class="num">{_e(v)}</td>' if col in numeric else f"<td>{_e(v)}</td>"
            for col, v in zip(columns, model_row(m, main_metric(report)), strict=True))
        rows.append(f'<tr class="{"fail" if m.error else ""}">{cells}</tr>')
    details = "\n".join(_model_details(m) for m in report.models
                        if m.layers or m.error or m.graph)
    return ("<h2>Measured models</h2>\n<table>\n<thead><tr>" + head + "</tr></thead>\n<tbody>\n"
            + "\n".join(rows) + "\n</tbody></table>\n" + details)


def _plots(report: Report) -> str:
    plots = make_plots(report.models, report.series)
    if not plots:
        return ""
    figures = "\n".join(
        f'<figure id="plot-{p.key}" aria-label="{_e(p.title)}">\n{p.svg}\n'
        f"<figcaption>{_e(p.caption)}</figcaption>\n</figure>" for p in plots)
    return ("<h2>Plots</h2>\n<p>Drawn from the grader's own measurements on "
            f"{_e(report.evaluation_set)}.</p>\n<div class=\"plots\">\n{figures}\n</div>")


def _execution(report: Report) -> str:
    run = report.execution
    failed = failed_cells(run.cells)
    summary = (f"Execution: {plural(len(run.cells), 'cell')} in {fmt_seconds(run.seconds)}, "
               f"{len(failed)} failed")
    parts = [f"<h2>Execution</h2>\n<details{' open' if failed or run.stopped else ''}>"
             f"<summary>{_e(summary)}</summary>"]
    if run.stopped:
        parts.append(f'<p class="error">Stopped early: {_e(run.stopped)}</p>')
    numbers = code_cell_numbers(c.index for c in run.cells)
    for cell in failed:
        parts.append(f"<h3>{code_cell(numbers[cell.index]).capitalize()}: {_e(cell.status)} "
                     f"({_e(fmt_seconds(cell.seconds))})</h3>")
        if cell.error:
            parts.append(f"<pre>{_e(tail(cell.error))}</pre>")
    if run.neutralised:
        items = "\n".join(f"<li><code>{_e(line)}</code></li>" for line in run.neutralised)
        parts.append("<h3>Lines not run</h3>\n<p>The grader's environment already provides "
                     f"what these lines set up:</p>\n<ul>\n{items}\n</ul>")
    parts.append("</details>")
    return "\n".join(parts)


def _notes(report: Report) -> str:
    if not report.notes:
        return ""
    items = "\n".join(f"<li>{_e(note)}</li>" for note in report.notes)
    return f"<h2>Notes</h2>\n<ul>\n{items}\n</ul>"


def render_html(report: Report) -> str:
    """The whole report as one HTML document that loads nothing from anywhere."""
    body = "\n".join(part for part in (_header(report), _checks(report), _models(report),
                                       _plots(report), _execution(report), _notes(report))
                     if part)
    title = f"{report.assignment_title}: {fmt_points(report.score, report.max_score)}"
    footer = f"nngrade {_e(report.grader_version)} · report schema {report.schema_version}"
    return html_page(title, body, footer)


def html_page(title: str, body: str, footer: str, extra_css: str = "") -> str:
    """A self-contained page: inline CSS, nothing loaded, scripts forbidden by its CSP.

    ``body`` and ``footer`` are HTML already escaped by the caller; ``title`` is text.
    """
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{CSS}{extra_css}</style>
</head>
<body>
{body}
<footer>{footer}</footer>
</body>
</html>
"""
