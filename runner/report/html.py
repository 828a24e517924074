"""Render a grading report as one self-contained HTML page.

The page is a single file a student can open offline or an instructor can
attach to feedback: inline CSS, inline SVG plots, no scripts, no external
requests. Every string that may come from student code is escaped, and a
Content-Security-Policy forbids scripts anyway, in case a future edit forgets.
Words come from the catalogues, in the report's language (see
``runner.report.markdown``); the page declares that language and UTF-8, and its
fonts have Cyrillic letters.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from runner.i18n.message import msg
from runner.i18n.render import Translator
from runner.measurements import Layer
from runner.report.cells import code_cell_numbers
from runner.report.markdown import (
    ENGLISH,
    FAIL_MARK,
    METRIC_COLUMN,
    MISSING,
    MODEL_COLUMNS,
    PASS_MARK,
    cell_status,
    clean_text,
    code_cell_heading,
    describe_baselines,
    describe_sandbox,
    failed_cells,
    fmt_ints,
    fmt_params,
    fmt_points,
    fmt_seconds,
    main_metric,
    mode_word,
    model_columns,
    model_row,
    one_line,
    score_fraction,
    seconds_message,
    status_word,
    tail,
    words,
)
from runner.report.model import ModelSummary, Report
from runner.report.plots import make_plots

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root { --ok: #276749; --ok-bg: #f0fff4; --bad: #9b2c2c; --bad-bg: #fff5f5;
        --warn: #975a16; --muted: #4a5568; --line: #e2e8f0; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans",
       Arial, sans-serif; color: #1a202c;
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
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono",
            "Noto Sans Mono", monospace;
            font-size: .88em; }
pre { background: #f7fafc; border: 1px solid var(--line); border-radius: 6px; padding: 8px;
      overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
details { margin: 8px 0; }
summary { cursor: pointer; font-weight: 600; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
figure svg { width: 100%; height: auto; display: block; }
img.grid { max-width: 100%; height: auto; display: block; image-rendering: pixelated; }
img.saved { min-width: 112px; max-width: 100%; display: block; image-rendering: pixelated; }
figcaption { color: var(--muted); font-size: .85em; }
.error { color: var(--bad); }
footer { margin-top: 40px; color: var(--muted); font-size: .8em; }
"""


def _e(text: object) -> str:
    """Escape for element content and quoted attributes, after dropping terminal junk."""
    return escape(clean_text(str(text)), quote=True)


class Markup(str):
    """HTML already escaped: a parameter :func:`sentence` puts in as it is."""


def sentence(t: Translator, message_id: str, /, **params: Any) -> str:
    """A catalogue sentence as HTML: the template and every text parameter escaped, but
    :class:`Markup` ones (``<code>…</code>`` the caller built and escaped); numbers, lists
    and nested messages are rendered as usual."""
    slots: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, str):
            token = f"\ue000{len(slots)}\ue001"  # private-use marks, which _e keeps
            slots[token] = value if isinstance(value, Markup) else _e(value)
            value = token
        values[name] = value
    text = _e(t(message_id, **values))
    for token, value in slots.items():
        text = text.replace(token, value)
    return text


def _grade_class(report: Report) -> str:
    fraction = score_fraction(report)
    return "good" if fraction >= 0.8 else "fair" if fraction >= 0.5 else "poor"


def _header(report: Report, t: Translator) -> str:
    lang = t.language

    def dt(message_id: str) -> str:
        return f"<dt>{_e(t(message_id))}</dt>"

    baselines = (f"\n{dt('report.label.without_model')}"
                 f"<dd>{_e(describe_baselines(report, lang))}</dd>" if report.baselines else "")
    subtitle = sentence(t, "report.html.subtitle",
                        notebook=Markup(f"<code>{_e(report.notebook)}</code>"))
    return f"""<header>
<div>
<h1>{_e(report.assignment_title)}</h1>
<p class="sub">{subtitle}</p>
</div>
<div class="badge {_grade_class(report)}" role="status">
<div class="score">{_e(fmt_points(report.score, report.max_score, lang))}</div>
<div class="status">{_e(status_word(report.status, lang))}</div>
</div>
</header>
<dl class="meta">
{dt("report.label.assignment")}<dd><code>{_e(report.assignment)}</code></dd>
{dt("report.label.mode")}<dd>{_e(mode_word(report.mode, lang))}</dd>
{dt("report.label.measured_on")}<dd>{_e(report.evaluation_set)}</dd>{baselines}
{dt("report.label.sandbox")}<dd>{_e(describe_sandbox(report.sandbox, lang))}</dd>
{dt("report.label.grader")}<dd>{_e(report.grader_version)}</dd>
{dt("report.label.sha256")}<dd><code>{_e(report.submission_sha256)}</code></dd>
{dt("report.label.graded_at")}<dd>{_e(report.created.isoformat(timespec="seconds"))}</dd>
</dl>"""


def _checks(report: Report, t: Translator) -> str:
    heading = f"<h2>{_e(t('report.heading.checks'))}</h2>"
    if not report.checks:
        return f"{heading}\n<p>{_e(t('report.checks.none'))}</p>"
    hidden_tag = f'<span class="tag">{_e(t("report.checks.hidden"))}</span>'
    passed_label = _e(t("report.checks.mark_passed"))
    failed_label = _e(t("report.checks.mark_failed"))
    rows = []
    for c in report.checks:
        hidden = "" if c.public else hidden_tag
        rows.append(
            f'<tr class="{"pass" if c.passed else "fail"}">'
            f'<td class="mark" aria-label="{passed_label if c.passed else failed_label}">'
            f"{PASS_MARK if c.passed else FAIL_MARK}</td>"
            f"<td>{_e(c.title)}{hidden}<br><code>{_e(c.id)}</code></td>"
            f'<td class="num">{_e(fmt_points(c.points, c.max_points, t.language))}</td>'
            f"<td>{_e(c.message)}</td></tr>")
    passed = sum(c.passed for c in report.checks)
    summary = _e(t("report.checks.passed", passed=passed, total=len(report.checks)))
    return (f"{heading}\n<p>{summary}</p>\n"
            f"<table>\n<thead><tr><th></th><th>{_e(t('report.column.check'))}</th>"
            f'<th class="num">{_e(t("report.column.points"))}</th>'
            f"<th>{_e(t('report.column.message'))}</th></tr></thead>\n<tbody>\n"
            + "\n".join(rows) + "\n</tbody></table>")


_NUMERIC = {"#", "Blocks", "Params", METRIC_COLUMN}
_LAYER_COLUMNS = [("kind", False), ("type", False), ("name", False), ("channels", True),
                  ("kernel", False), ("params", True), ("output_shape", False)]


def _layers(layers: list[Layer], t: Translator) -> str:
    rows = "\n".join(
        f"<tr><td>{_e(layer.kind)}</td><td>{_e(layer.type)}</td><td>{_e(layer.name)}</td>"
        f'<td class="num">{MISSING if layer.channels is None else layer.channels}</td>'
        f"<td>{_e(fmt_ints(layer.kernel_size or []))}</td>"
        f'<td class="num">{_e(fmt_params(layer.params, t.language))}</td>'
        f"<td>{_e(MISSING if layer.output_shape is None else layer.output_shape)}</td></tr>"
        for layer in layers)
    head = "".join(('<th class="num">' if numeric else "<th>") + _e(t("report.layer." + key))
                   + "</th>" for key, numeric in _LAYER_COLUMNS)
    return ("<table><thead><tr>" + head + "</tr></thead>\n<tbody>\n" + rows
            + "\n</tbody></table>")


def _model_details(model: ModelSummary, t: Translator) -> str:
    summary = t("report.models.layers", model=one_line(model.label, 60),
                count=len(model.layers))
    parts = [f"<details><summary>{_e(summary)}</summary>"]
    if model.error:
        parts.append(f'<p class="error">{_e(t("report.label.unmeasured"))}: '
                     f"{_e(model.error)}</p>")
    if model.graph:
        parts.append(f"<p>{_e(t('report.label.graph'))}: {_e(one_line(model.graph, 300))}</p>")
    if model.layers:
        parts.append(_layers(model.layers, t))
    parts.append("</details>")
    return "\n".join(parts)


def _models(report: Report, t: Translator) -> str:
    if not report.models:
        return ""
    headings = model_columns(report, t.language)
    head = "".join(f'<th class="num">{_e(h)}</th>' if key in _NUMERIC else f"<th>{_e(h)}</th>"
                   for key, h in zip(MODEL_COLUMNS, headings, strict=True))
    rows = []
    for m in report.models:
        cells = "".join(
            f'<td class="num">{_e(v)}</td>' if key in _NUMERIC else f"<td>{_e(v)}</td>"
            for key, v in zip(MODEL_COLUMNS, model_row(m, main_metric(report), t.language),
                              strict=True))
        rows.append(f'<tr class="{"fail" if m.error else ""}">{cells}</tr>')
    details = "\n".join(_model_details(m, t) for m in report.models
                        if m.layers or m.error or m.graph)
    return (f"<h2>{_e(t('report.heading.models'))}</h2>\n<table>\n<thead><tr>" + head
            + "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody></table>\n" + details)


def _plots(report: Report, t: Translator) -> str:
    plots = make_plots(report.models, report.series, language=t.language)
    if not plots:
        return ""
    figures = "\n".join(
        f'<figure id="plot-{p.key}" aria-label="{_e(p.title)}">\n{p.svg}\n'
        f"<figcaption>{_e(p.caption)}</figcaption>\n</figure>" for p in plots)
    intro = _e(t("report.plots.intro", evaluation_set=report.evaluation_set))
    return (f"<h2>{_e(t('report.heading.plots'))}</h2>\n<p>{intro}</p>\n"
            f'<div class="plots">\n{figures}\n</div>')


def _grids(report: Report, t: Translator) -> str:
    """Each grid the grader drew, as an inline PNG with what its rows are."""
    if not report.grids:
        return ""
    figures = "\n".join(
        f'<figure id="grid-{grid.key}"><img class="grid" src="data:image/png;base64,'
        f'{grid.png}" alt="{_e(t(f"report.grid.{grid.key}.alt", model=grid.model or ""))}">'
        f"<figcaption>{_e(t(f'report.grid.{grid.key}', model=grid.model or ''))}"
        "</figcaption></figure>" for grid in report.grids)
    return f"<h2>{_e(t('report.heading.grids'))}</h2>\n{figures}"


def _saved_images(report: Report, t: Translator) -> str:
    """The images the notebook saved, as the host redrew them."""
    if not report.saved_images:
        return ""
    figures = []
    for image in report.saved_images:
        caption = t("report.saved_image.caption", name=image.name, width=image.width,
                    height=image.height)
        figures.append(f'<figure><img class="saved" src="data:image/png;base64,{image.png}" '
                       f'alt="{_e(image.name)}"><figcaption>{_e(caption)}</figcaption>'
                       "</figure>")
    return (f"<h2>{_e(t('report.heading.saved_images'))}</h2>\n"
            f"<p>{_e(t('report.saved_images.intro'))}</p>\n" + "\n".join(figures))


def _answers(report: Report, t: Translator) -> str:
    """The written answers as found, for the instructor to grade: shown as text only."""
    if not report.answers:
        return ""
    parts = [f"<h2>{_e(t('report.heading.answers'))}</h2>",
             f"<p>{_e(t('report.answers.intro'))}</p>"]
    for answer in report.answers:
        parts.append(f"<h3>{_e(answer.title)} "
                     f"({_e(t('report.answers.points', points=answer.points))})</h3>")
        parts.append(f'<pre class="answer">{_e(answer.text)}</pre>' if answer.text
                     else f"<p>{_e(t('report.answer.missing', title=answer.title))}</p>")
    return "\n".join(parts)


def _execution(report: Report, t: Translator) -> str:
    run = report.execution
    failed = failed_cells(run.cells)
    summary = t("report.html.execution", cells=msg("unit.cell", n=len(run.cells)),
                seconds=seconds_message(run.seconds), failed=len(failed))
    parts = [f"<h2>{_e(t('report.heading.execution'))}</h2>\n"
             f"<details{' open' if failed or run.stopped else ''}>"
             f"<summary>{_e(summary)}</summary>"]
    if run.stopped:
        parts.append(f'<p class="error">{_e(t("report.label.stopped"))}: {_e(run.stopped)}</p>')
    numbers = code_cell_numbers(c.index for c in run.cells)
    for cell in failed:
        line = t("report.execution.cell", cell=code_cell_heading(numbers[cell.index], t.language),
                 status=words(cell_status(cell.status), t.language),
                 seconds=fmt_seconds(cell.seconds, t.language))
        parts.append(f"<h3>{_e(line)}</h3>")
        if cell.error:
            parts.append(f"<pre>{_e(tail(cell.error, language=t.language))}</pre>")
    if run.neutralised:
        items = "\n".join(f"<li><code>{_e(line)}</code></li>" for line in run.neutralised)
        parts.append(f"<h3>{_e(t('report.heading.neutralised'))}</h3>\n"
                     f"<p>{_e(t('report.execution.neutralised'))}</p>\n<ul>\n{items}\n</ul>")
    parts.append("</details>")
    return "\n".join(parts)


def _notes(report: Report, t: Translator) -> str:
    if not report.notes:
        return ""
    items = "\n".join(f"<li>{_e(note)}</li>" for note in report.notes)
    return f"<h2>{_e(t('report.heading.notes'))}</h2>\n<ul>\n{items}\n</ul>"


def render_html(report: Report) -> str:
    """The whole report as one HTML document in ``report.language`` that loads nothing from
    anywhere."""
    t = Translator(report.language)
    body = "\n".join(part for part in (_header(report, t), _checks(report, t),
                                       _models(report, t), _plots(report, t),
                                       _grids(report, t), _saved_images(report, t),
                                       _answers(report, t), _execution(report, t),
                                       _notes(report, t))
                     if part)
    title = (f"{report.assignment_title}: "
             f"{fmt_points(report.score, report.max_score, t.language)}")
    footer = _e(t("report.html.footer", version=report.grader_version,
                  schema=report.schema_version))
    return html_page(title, body, footer, language=t.language)


def html_page(title: str, body: str, footer: str, extra_css: str = "",
              language: str = ENGLISH) -> str:
    """A self-contained page: inline CSS, nothing loaded, scripts forbidden by its CSP.

    ``body`` and ``footer`` are HTML already escaped by the caller; ``title`` is text;
    ``language`` is the page's (``<html lang>``), a tag such as ``ru``.
    """
    lang = language if re.fullmatch(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*", language) else ENGLISH
    return f"""<!DOCTYPE html>
<html lang="{lang}">
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
