"""The class summary: one self-contained ``summary.html`` for a whole batch.

What an instructor looks at after a batch: how the class did overall, which checks
the class found hard, which submissions were slow or could not be graded, which
pairs look alike, and every student's row with a link to that student's report.
Like the per-student report it loads nothing (inline CSS and SVG, no scripts, a
Content-Security-Policy), and every student id and name, which come from file
names, is escaped. Every word on it comes from the ``batch`` message catalogue, in
the batch's language, and numbers are written that language's way.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from runner.batch.gradebook import Grade
from runner.errors import NngradeError
from runner.i18n.message import msg
from runner.i18n.render import Translator
from runner.report.html import Markup, _e, html_page, sentence
from runner.report.markdown import MISSING, one_line
from runner.report.model import ImageGrid
from runner.report.plots import CNN_COLOR, MLP_COLOR, _to_svg
from runner.report.read import read_report
from runner.report.write import write_atomic
from runner.spec import AssignmentSpec, local_text

SUMMARY_FILE = "summary.html"
PASS_FRACTION = 0.6  # a student passes with at least 60% of the maximum score
SLOWEST = 10
ASSESSED = ("graded", "partial", "failed")  # every status but "problem" has a score
STATUSES = (*ASSESSED, "problem")
CHECK_LABEL_CHARS = 40

SUMMARY_CSS = """
body { font-family: "DejaVu Sans", "Noto Sans", system-ui, Arial, sans-serif; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0; }
.count { border: 1px solid var(--line); border-radius: 8px; padding: 6px 12px; min-width: 90px; }
.count b { display: block; font-size: 1.4em; }
.count span { color: var(--muted); font-size: .85em; }
.st { font-size: .8em; font-weight: 600; border-radius: 4px; padding: 0 6px;
      white-space: nowrap; }
.st-graded { color: var(--ok); background: var(--ok-bg); }
.st-partial { color: var(--warn); background: #fffaf0; }
.st-failed, .st-problem { color: var(--bad); background: var(--bad-bg); }
td.pt-pass { color: var(--ok); }
td.pt-fail { color: var(--bad); }
.wide { overflow-x: auto; }
"""


class SimilarPairLike(Protocol):
    """Two submissions that look alike, as the similarity module reports them."""

    @property
    def first(self) -> str: ...
    @property
    def second(self) -> str: ...
    @property
    def score(self) -> float: ...  # 0..1
    @property
    def shared_fingerprints(self) -> int: ...


@dataclass(frozen=True)
class _CheckRate:
    id: str
    title: str
    max_points: float
    passed: int
    total: int
    mean_points: float

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


def _round(value: float) -> float:
    """Points without float noise, for a template to write: 7.2500001 -> 7.25, -0.0 -> 0."""
    return round(float(value), 2) + 0.0


def _num(t: Translator, value: float) -> str:
    """Points the language's way: 2.0 -> '2', 7.25 -> '7.25' (in Russian '7,25')."""
    return t.number(_round(value))


def _points(t: Translator, points: float, max_points: float) -> str:
    return t("batch.points", points=_round(points), max=_round(max_points))


def _count_label(t: Translator, unit: str, count: int) -> str:
    """The word of a plural unit (``unit.student``: "3 студента") without its number, to
    set the number apart in a box; a template with the number elsewhere shows it twice."""
    return t(unit, n=count).removeprefix(t.number(count)).strip()


def _max(grade: Grade, spec: AssignmentSpec) -> float:
    return grade.max_score if grade.max_score > 0 else spec.max_score + spec.manual_max_score


def _passes(grade: Grade, spec: AssignmentSpec) -> bool:
    top = _max(grade, spec)
    return top > 0 and grade.score >= PASS_FRACTION * top - 1e-9


def _check_passed(check: dict) -> bool:
    """Older gradebook rows lack ``passed``; full points then count as passed."""
    if "passed" in check:
        return bool(check["passed"])
    return check.get("points", 0) >= check.get("max_points", 0) > 0


def _check_rates(spec: AssignmentSpec, assessed: list[Grade], language: str) -> list[_CheckRate]:
    """Per spec check and written answer: how many assessed students passed it (a missing
    result counts as not)."""
    rates = []
    for check in [*spec.checks, *spec.rubric]:
        results = [next((c for c in g.checks if c.get("id") == check.id), None)
                   for g in assessed]
        points = [float(r.get("points", 0.0)) if r else 0.0 for r in results]
        rates.append(_CheckRate(
            id=check.id, title=local_text(check.title, language), max_points=check.points,
            passed=sum(1 for r in results if r is not None and _check_passed(r)),
            total=len(assessed), mean_points=statistics.fmean(points) if points else 0.0))
    return rates


def _pct(t: Translator, part: int, whole: int) -> str:
    return t("batch.percent", share=part / whole) if whole else MISSING


def _link(t: Translator, grade: Grade | None, text_id: str = "batch.link.report") -> str:
    """A relative link to the student's report.html; the path is URL-quoted, then escaped."""
    if grade is None or not grade.report_dir:
        return MISSING
    href = quote(f"{grade.report_dir.strip('/')}/report.html")
    return f'<a href="{_e(href)}">{sentence(t, text_id)}</a>'


def _status_word(t: Translator, status: str) -> str:
    return t(f"batch.status.{status}") if status in STATUSES else status


def _status(t: Translator, grade: Grade) -> str:
    return f'<span class="st st-{_e(grade.status)}">{_e(_status_word(t, grade.status))}</span>'


def _student(grade: Grade) -> str:
    return f"<code>{_e(one_line(grade.student, 120))}</code>"


def _table(head: str, rows: list[str]) -> str:
    return (f'<div class="wide"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody></table></div>")


def _heads(t: Translator, *columns: str) -> str:
    """Table heads by column id; a ``num:`` prefix right-aligns the column."""
    cells = []
    for column in columns:
        numeric = column.startswith("num:")
        name = column.removeprefix("num:")
        text = sentence(t, f"batch.column.{name}") if name != "#" else "#"
        cells.append(f'<th class="num">{text}</th>' if numeric else f"<th>{text}</th>")
    return "".join(cells)


# --- sections --------------------------------------------------------------------------


def _header(t: Translator, spec: AssignmentSpec, grades: list[Grade], assessed: list[Grade],
            heading: str) -> str:
    by_status = {s: sum(g.status == s for g in grades) for s in STATUSES}
    counts = [(_count_label(t, "unit.student", len(grades)), t.number(len(grades)))]
    counts += [(t(f"batch.status.{s}"), t.number(n)) for s, n in by_status.items()]
    if assessed:
        scores = [g.score for g in assessed]
        passed = sum(_passes(g, spec) for g in assessed)
        counts += [
            (t("batch.count.mean"), _points(t, statistics.fmean(scores), spec.max_score)),
            (t("batch.count.median"), _points(t, statistics.median(scores), spec.max_score)),
            (t("batch.count.pass_rate"),
             t("batch.count.pass_rate_value", share=passed / len(assessed), passed=passed,
               total=len(assessed)))]
    boxes = "\n".join(f'<div class="count"><b>{_e(value)}</b><span>{_e(label)}</span></div>'
                      for label, value in counts)
    note = ('<p class="sub">' + sentence(t, "batch.summary.note", n=len(assessed),
                                      share=PASS_FRACTION, max=_round(spec.max_score))
            + "</p>" if assessed else "")
    subtitle = sentence(t, "batch.summary.subtitle", id=Markup(f"<code>{_e(spec.id)}</code>"),
                     title=local_text(spec.title, t.language))
    return f"""<header>
<div>
<h1>{_e(heading)}</h1>
<p class="sub">{subtitle}</p>
</div>
</header>
<div class="counts">
{boxes}
</div>
{note}"""


def _draw_scores(ax, scores: list[float], max_score: float, t: Translator) -> None:
    import numpy as np
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    bins = int(np.ceil(max_score)) if max_score <= 20 else 20
    ax.hist(scores, bins=np.linspace(0.0, max_score, bins + 1), color=CNN_COLOR,
            edgecolor="white")
    ax.axvline(PASS_FRACTION * max_score, color=MLP_COLOR, linestyle="--", linewidth=1,
               label=t("batch.scores.pass_mark", share=PASS_FRACTION))
    ax.axvline(statistics.fmean(scores), color="#2f855a", linewidth=1,
               label=t("batch.scores.mean", mean=_round(statistics.fmean(scores))))
    ax.set_xlim(0.0, max_score)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: _num(t, value)))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _num(t, value)))
    ax.set_xlabel(t("batch.scores.axis_x", max=_round(max_score)))
    ax.set_ylabel(t("batch.scores.axis_y"))
    ax.set_title(t("batch.scores.heading"))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, frameon=False)


def _check_label(title: str) -> str:
    """A check title short enough for an axis, kept out of matplotlib's mathtext parser."""
    return one_line(title, CHECK_LABEL_CHARS).replace("$", r"\$")


def _draw_checks(ax, rates: list[_CheckRate], t: Translator) -> None:
    positions = list(range(len(rates)))
    bars = ax.barh(positions, [100.0 * r.rate for r in rates], color=CNN_COLOR)
    ax.bar_label(bars, labels=[t("batch.checks.bar", share=r.rate, passed=r.passed,
                                 total=r.total) for r in rates],
                 padding=3, fontsize=8)
    ax.set_yticks(positions, [_check_label(r.title) for r in rates])
    ax.invert_yaxis()  # first check on top, as in the spec
    ax.set_xlim(0.0, 118.0)  # room for the labels right of a full bar
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel(t("batch.checks.axis_x"))
    ax.set_title(t("batch.checks.heading"))
    ax.grid(axis="x", alpha=0.3)


def _figure(key: str, title: str, svg: str, caption: str) -> str:
    """``title`` is text; ``caption`` is HTML already escaped."""
    return (f'<figure id="plot-{key}" aria-label="{_e(title)}">\n{svg}\n'
            f"<figcaption>{caption}</figcaption>\n</figure>")


def _distribution(t: Translator, spec: AssignmentSpec, grades: list[Grade],
                  assessed: list[Grade]) -> str:
    title = t("batch.scores.heading")
    head = f"<h2>{_e(title)}</h2>"
    if not assessed:
        why = "batch.scores.no_students" if not grades else "batch.scores.all_problems"
        return f"{head}\n<p>{sentence(t, why)}</p>"
    problems = len(grades) - len(assessed)
    svg = _to_svg(_draw_scores, "scores", [g.score for g in assessed], spec.max_score, t)
    caption = (sentence(t, "batch.scores.caption_hidden", n=len(assessed),
                     hidden=msg("batch.unit.problem", n=problems)) if problems
               else sentence(t, "batch.scores.caption", n=len(assessed)))
    return f"{head}\n" + _figure("scores", title, svg, caption)


def _checks(t: Translator, spec: AssignmentSpec, assessed: list[Grade]) -> str:
    title = t("batch.checks.heading")
    head = f"<h2>{_e(title)}</h2>"
    if not assessed:
        return f"{head}\n<p>{sentence(t, 'batch.checks.none')}</p>"
    rates = _check_rates(spec, assessed, t.language)
    svg = _to_svg(_draw_checks, "checks", rates, t)
    rows = [f"<tr><td>{_e(r.title)}<br><code>{_e(r.id)}</code></td>"
            f'<td class="num">'
            f'{sentence(t, "batch.checks.passed_of", passed=r.passed, total=r.total)}</td>'
            f'<td class="num">{_e(_pct(t, r.passed, r.total))}</td>'
            f'<td class="num">{_e(_points(t, r.mean_points, r.max_points))}</td></tr>'
            for r in rates]
    table = _table(_heads(t, "check", "num:passed", "num:pass_rate", "num:mean_points"), rows)
    caption = sentence(t, "batch.checks.caption", n=len(assessed))
    return f"{head}\n" + _figure("checks", title, svg, caption) + "\n" + table


def _slowest(t: Translator, grades: list[Grade], spec: AssignmentSpec) -> str:
    heading = f"<h2>{sentence(t, 'batch.slowest.heading')}</h2>"
    timed = sorted((g for g in grades if g.seconds > 0), key=lambda g: (-g.seconds, g.student))
    if not timed:
        return f"{heading}\n<p>{sentence(t, 'batch.slowest.none')}</p>"
    rows = [f'<tr><td class="num">{i}</td><td>{_student(g)}</td><td>{_status(t, g)}</td>'
            f'<td class="num">{_e(t("batch.seconds", seconds=float(g.seconds)))}</td>'
            f'<td class="num">{_e(_points(t, g.score, _max(g, spec)))}</td>'
            f"<td>{_link(t, g)}</td></tr>"
            for i, g in enumerate(timed[:SLOWEST], start=1)]
    return (f"{heading}\n<p>{sentence(t, 'batch.slowest.intro', n=SLOWEST)}</p>\n"
            + _table(_heads(t, "num:#", "student", "status", "num:time", "num:score",
                            "report"), rows))


def _trouble(t: Translator, grades: list[Grade]) -> str:
    head = f"<h2>{sentence(t, 'batch.trouble.heading')}</h2>"
    bad = [g for g in grades if g.status in ("failed", "problem")]
    if not bad:
        return f"{head}\n<p>{sentence(t, 'batch.trouble.none')}</p>"
    rows = []
    for g in bad:
        why = g.problem or (t("batch.trouble.nothing_measured") if g.report_dir else MISSING)
        rows.append(f"<tr><td>{_student(g)}</td><td>{_status(t, g)}</td>"
                    f"<td>{_e(one_line(why, 400))}</td><td>{_link(t, g)}</td></tr>")
    note = "<p>" + sentence(t, "batch.trouble.note",
                         problem=Markup(f"<em>{_e(t('batch.status.problem'))}</em>"),
                         failed=Markup(f"<em>{_e(t('batch.status.failed'))}</em>")) + "</p>"
    return (f"{head}\n{note}\n"
            + _table(_heads(t, "student", "status", "problem", "report"), rows))


def _similar(t: Translator, pairs: Sequence[SimilarPairLike],
             by_student: dict[str, Grade]) -> str:
    head = (f"<h2>{sentence(t, 'batch.similar.heading')}</h2>\n"
            f"<p>{sentence(t, 'batch.similar.intro')}</p>")
    if not pairs:
        return f"{head}\n<p>{sentence(t, 'batch.similar.none')}</p>"
    rows = []
    for p in sorted(pairs, key=lambda p: (-float(p.score), str(p.first), str(p.second))):
        a, b = by_student.get(p.first), by_student.get(p.second)
        rows.append(f"<tr><td><code>{_e(one_line(str(p.first), 120))}</code></td>"
                    f"<td><code>{_e(one_line(str(p.second), 120))}</code></td>"
                    f'<td class="num">{_e(t("batch.percent", share=float(p.score)))}</td>'
                    f'<td class="num">{_e(t.number(int(p.shared_fingerprints)))}</td>'
                    f"<td>{_link(t, a, 'batch.link.first')} · "
                    f"{_link(t, b, 'batch.link.second')}</td></tr>")
    return head + "\n" + _table(_heads(t, "student_a", "student_b", "num:similarity",
                                       "num:shared_fingerprints", "reports"), rows)


def _everyone(t: Translator, spec: AssignmentSpec, grades: list[Grade]) -> str:
    head = f"<h2>{sentence(t, 'batch.everyone.heading')}</h2>"
    if not grades:
        return f"{head}\n<p>{sentence(t, 'batch.everyone.none')}</p>"
    check_heads = "".join(
        f'<th class="num" title="{_e(local_text(c.title, t.language))}">{_e(c.id)}</th>'
        for c in [*spec.checks, *spec.rubric])
    rows = []
    for g in grades:
        results = {c.get("id"): c for c in g.checks}
        cells = []
        for check in [*spec.checks, *spec.rubric]:
            result = results.get(check.id)
            if result is None or (result.get("manual") and not result.get("graded")):
                cells.append(f'<td class="num">{MISSING}</td>')
                continue
            mark = "pt-pass" if _check_passed(result) else "pt-fail"
            cells.append(f'<td class="num {mark}">'
                         f"{_e(_num(t, float(result.get('points', 0.0))))}</td>")
        score = _points(t, g.score, _max(g, spec)) if g.status != "problem" else MISSING
        rows.append(f"<tr><td>{_student(g)}</td>"
                    f"<td>{_e(one_line(g.full_name, 120)) if g.full_name else MISSING}</td>"
                    f'<td>{_status(t, g)}</td><td class="num">{_e(score)}</td>'
                    + "".join(cells) + f"<td>{_link(t, g)}</td></tr>")
    return head + "\n" + _table(_heads(t, "student", "full_name", "status", "num:score")
                                + check_heads + _heads(t, "report"), rows)


def _grids(t: Translator, grades: list[Grade], grids: Mapping[str, Sequence[ImageGrid]]
           ) -> str:
    """Each student's grids side by side, one group per kind (masks; samples,
    reconstructions), each with what its images are."""
    groups: dict[str, list[str]] = {}
    for grade in grades:
        for grid in grids.get(grade.student, ()):
            groups.setdefault(grid.key, []).append(
                f'<figure><img class="grid" src="data:image/png;base64,{grid.png}" '
                f'alt="{_e(t(f"report.grid.{grid.key}.alt", model=grid.model or ""))}">'
                f"<figcaption>{_student(grade)} · {_e(grid.model or '')} · "
                f"{_link(t, grade)}</figcaption></figure>")
    if not groups:
        return ""
    return f"<h2>{sentence(t, 'batch.grids.heading')}</h2>\n" + "\n".join(
        f"<p>{sentence(t, f'batch.grids.{key}')}</p>\n"
        f'<div class="plots">\n' + "\n".join(figures) + "\n</div>"
        for key, figures in groups.items())


def report_grids(out_dir: Path, grades: list[Grade]) -> dict[str, list[ImageGrid]]:
    """The grids of every graded student's report.json under ``out_dir``; a report that
    cannot be read is left out (its row already links to it)."""
    found = {}
    for grade in grades:
        if grade.status not in ASSESSED or not grade.report_dir:
            continue
        try:
            report = read_report(out_dir / grade.report_dir / "report.json")
        except NngradeError:
            continue
        if report.grids:
            found[grade.student] = list(report.grids)
    return found


def render_summary(spec: AssignmentSpec, grades: list[Grade], pairs: Sequence[SimilarPairLike],
                   *, title: str | None = None, language: str = "en",
                   grids: Mapping[str, Sequence[ImageGrid]] | None = None) -> str:
    """The whole summary.html page as a string, its words in ``language``; ``grids`` by
    student, from their reports."""
    t = Translator(language)
    grades = sorted(grades, key=lambda g: g.student)
    assessed = [g for g in grades if g.status in ASSESSED]
    heading = title or t("batch.summary.title", title=local_text(spec.title, language))
    by_student = {g.student: g for g in grades}
    body = "\n".join((_header(t, spec, grades, assessed, heading),
                      _distribution(t, spec, grades, assessed), _checks(t, spec, assessed),
                      _slowest(t, grades, spec), _trouble(t, grades),
                      _similar(t, pairs, by_student), _everyone(t, spec, grades),
                      _grids(t, grades, grids or {})))
    versions = ", ".join(sorted({g.grader_version for g in grades if g.grader_version}))
    footer = sentence(t, "batch.summary.footer") + (
        " · " + sentence(t, "batch.summary.graded_by", versions=versions) if versions else "")
    return html_page(heading, body, footer, SUMMARY_CSS, language=language)


def write_summary(spec: AssignmentSpec, grades: list[Grade], pairs: Sequence[SimilarPairLike],
                  out_dir: Path, *, language: str = "en") -> Path:
    """Write out_dir/summary.html atomically, in ``language``, and return its path; the
    students' reports under ``out_dir`` give the grids it shows."""
    text = render_summary(spec, grades, pairs, language=language,
                          grids=report_grids(out_dir, grades))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / SUMMARY_FILE
    write_atomic(path, text)
    return path
