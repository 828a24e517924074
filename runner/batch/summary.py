"""The class summary: one self-contained ``summary.html`` for a whole batch.

What an instructor looks at after a batch: how the class did overall, which checks
the class found hard, which submissions were slow or could not be graded, which
pairs look alike, and every student's row with a link to that student's report.
Like the per-student report it loads nothing (inline CSS and SVG, no scripts, a
Content-Security-Policy), and every student id and name, which come from file
names, is escaped.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from runner.batch.gradebook import Grade
from runner.report.html import _e, html_page
from runner.report.markdown import MISSING, fmt_num, fmt_points, fmt_seconds, one_line, plural
from runner.report.plots import CNN_COLOR, MLP_COLOR, _to_svg
from runner.report.write import write_atomic
from runner.spec import AssignmentSpec

SUMMARY_FILE = "summary.html"
PASS_FRACTION = 0.6  # a student passes with at least 60% of the maximum score
SLOWEST = 10
ASSESSED = ("graded", "partial", "failed")  # every status but "problem" has a score
CHECK_LABEL_CHARS = 40

SUMMARY_CSS = """
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


def _max(grade: Grade, spec: AssignmentSpec) -> float:
    return grade.max_score if grade.max_score > 0 else spec.max_score


def _passes(grade: Grade, spec: AssignmentSpec) -> bool:
    top = _max(grade, spec)
    return top > 0 and grade.score >= PASS_FRACTION * top - 1e-9


def _check_passed(check: dict) -> bool:
    """Older gradebook rows lack ``passed``; full points then count as passed."""
    if "passed" in check:
        return bool(check["passed"])
    return check.get("points", 0) >= check.get("max_points", 0) > 0


def _check_rates(spec: AssignmentSpec, assessed: list[Grade]) -> list[_CheckRate]:
    """Per spec check: how many assessed students passed it (a missing result counts as not)."""
    rates = []
    for check in spec.checks:
        results = [next((c for c in g.checks if c.get("id") == check.id), None)
                   for g in assessed]
        points = [float(r.get("points", 0.0)) if r else 0.0 for r in results]
        rates.append(_CheckRate(
            id=check.id, title=check.title, max_points=check.points,
            passed=sum(1 for r in results if r is not None and _check_passed(r)),
            total=len(assessed), mean_points=statistics.fmean(points) if points else 0.0))
    return rates


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else MISSING


def _link(grade: Grade | None, text: str = "report") -> str:
    """A relative link to the student's report.html; the path is URL-quoted, then escaped."""
    if grade is None or not grade.report_dir:
        return MISSING
    href = quote(f"{grade.report_dir.strip('/')}/report.html")
    return f'<a href="{_e(href)}">{_e(text)}</a>'


def _status(grade: Grade) -> str:
    return f'<span class="st st-{_e(grade.status)}">{_e(grade.status)}</span>'


def _student(grade: Grade) -> str:
    return f"<code>{_e(one_line(grade.student, 120))}</code>"


def _table(head: str, rows: list[str]) -> str:
    return (f'<div class="wide"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody></table></div>")


# --- sections --------------------------------------------------------------------------


def _header(spec: AssignmentSpec, grades: list[Grade], assessed: list[Grade],
            heading: str) -> str:
    by_status = {s: sum(g.status == s for g in grades) for s in (*ASSESSED, "problem")}
    counts = [("students", str(len(grades)))] + [(s, str(n)) for s, n in by_status.items()]
    if assessed:
        scores = [g.score for g in assessed]
        passed = sum(_passes(g, spec) for g in assessed)
        counts += [("mean score", fmt_points(statistics.fmean(scores), spec.max_score)),
                   ("median score", fmt_points(statistics.median(scores), spec.max_score)),
                   ("pass rate", f"{_pct(passed, len(assessed))} ({passed} of {len(assessed)})")]
    boxes = "\n".join(f'<div class="count"><b>{_e(value)}</b><span>{_e(label)}</span></div>'
                      for label, value in counts)
    note = (f"<p class=\"sub\">Mean, median and pass rate are over the {len(assessed)} "
            f"graded, partial and failed submissions; problems have no score. A student passes "
            f"with at least {PASS_FRACTION:.0%} of {fmt_num(spec.max_score)} points.</p>"
            if assessed else "")
    return f"""<header>
<div>
<h1>{_e(heading)}</h1>
<p class="sub">Class summary for <code>{_e(spec.id)}</code>: {_e(spec.title)}</p>
</div>
</header>
<div class="counts">
{boxes}
</div>
{note}"""


def _draw_scores(ax, scores: list[float], max_score: float) -> None:
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    bins = int(np.ceil(max_score)) if max_score <= 20 else 20
    ax.hist(scores, bins=np.linspace(0.0, max_score, bins + 1), color=CNN_COLOR,
            edgecolor="white")
    ax.axvline(PASS_FRACTION * max_score, color=MLP_COLOR, linestyle="--", linewidth=1,
               label=f"pass mark ({PASS_FRACTION:.0%})")
    ax.axvline(statistics.fmean(scores), color="#2f855a", linewidth=1,
               label=f"mean ({fmt_num(statistics.fmean(scores))})")
    ax.set_xlim(0.0, max_score)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"Score (out of {fmt_num(max_score)})")
    ax.set_ylabel("Students")
    ax.set_title("Score distribution")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, frameon=False)


def _check_label(title: str) -> str:
    """A check title short enough for an axis, kept out of matplotlib's mathtext parser."""
    return one_line(title, CHECK_LABEL_CHARS).replace("$", r"\$")


def _draw_checks(ax, rates: list[_CheckRate]) -> None:
    positions = list(range(len(rates)))
    bars = ax.barh(positions, [100.0 * r.rate for r in rates], color=CNN_COLOR)
    ax.bar_label(bars, labels=[f"{r.rate:.0%} ({r.passed}/{r.total})" for r in rates],
                 padding=3, fontsize=8)
    ax.set_yticks(positions, [_check_label(r.title) for r in rates])
    ax.invert_yaxis()  # first check on top, as in the spec
    ax.set_xlim(0.0, 118.0)  # room for the labels right of a full bar
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel("Students who passed the check (%)")
    ax.set_title("Pass rate per check")
    ax.grid(axis="x", alpha=0.3)


def _figure(key: str, title: str, svg: str, caption: str) -> str:
    return (f'<figure id="plot-{key}" aria-label="{_e(title)}">\n{svg}\n'
            f"<figcaption>{_e(caption)}</figcaption>\n</figure>")


def _distribution(spec: AssignmentSpec, grades: list[Grade], assessed: list[Grade]) -> str:
    head = "<h2>Score distribution</h2>"
    if not assessed:
        return (f"{head}\n<p>No plots: "
                + ("there are no students in this batch." if not grades else
                   "no submission could be graded, every one is a problem (listed below).")
                + "</p>")
    problems = len(grades) - len(assessed)
    svg = _to_svg(_draw_scores, "scores", [g.score for g in assessed], spec.max_score)
    caption = (f"Scores of {plural(len(assessed), 'graded, partial or failed submission')}"
               + (f"; {plural(problems, 'problem')} not shown, listed below." if problems
                  else "."))
    return f"{head}\n" + _figure("scores", "Score distribution", svg, caption)


def _checks(spec: AssignmentSpec, assessed: list[Grade]) -> str:
    head = "<h2>Pass rate per check</h2>"
    if not assessed:
        return f"{head}\n<p>No submission was graded, so no check has a pass rate.</p>"
    rates = _check_rates(spec, assessed)
    svg = _to_svg(_draw_checks, "checks", rates)
    rows = [f"<tr><td>{_e(r.title)}<br><code>{_e(r.id)}</code></td>"
            f'<td class="num">{r.passed} of {r.total}</td>'
            f'<td class="num">{_e(_pct(r.passed, r.total))}</td>'
            f'<td class="num">{_e(fmt_points(r.mean_points, r.max_points))}</td></tr>'
            for r in rates]
    table = _table('<th>Check</th><th class="num">Passed</th><th class="num">Pass rate</th>'
                   '<th class="num">Mean points</th>', rows)
    caption = (f"Share of the {len(assessed)} graded, partial and failed submissions that "
               "passed each check.")
    return f"{head}\n" + _figure("checks", "Pass rate per check", svg, caption) + "\n" + table


def _slowest(grades: list[Grade], spec: AssignmentSpec) -> str:
    head = f"<h2>Slowest submissions</h2>\n<p>The {SLOWEST} longest runs, slowest first.</p>"
    timed = sorted((g for g in grades if g.seconds > 0), key=lambda g: (-g.seconds, g.student))
    if not timed:
        return "<h2>Slowest submissions</h2>\n<p>No submission has a recorded run time.</p>"
    rows = [f'<tr><td class="num">{i}</td><td>{_student(g)}</td><td>{_status(g)}</td>'
            f'<td class="num">{_e(fmt_seconds(g.seconds))}</td>'
            f'<td class="num">{_e(fmt_points(g.score, _max(g, spec)))}</td>'
            f"<td>{_link(g)}</td></tr>"
            for i, g in enumerate(timed[:SLOWEST], start=1)]
    return head + "\n" + _table('<th class="num">#</th><th>Student</th><th>Status</th>'
                                '<th class="num">Time</th><th class="num">Score</th>'
                                "<th>Report</th>", rows)


def _trouble(grades: list[Grade]) -> str:
    head = "<h2>Failed and problem submissions</h2>"
    bad = [g for g in grades if g.status in ("failed", "problem")]
    if not bad:
        return f"{head}\n<p>None: every submission was graded.</p>"
    rows = []
    for g in bad:
        why = g.problem or ("Nothing could be measured; the report says why." if g.report_dir
                            else MISSING)
        rows.append(f"<tr><td>{_student(g)}</td><td>{_status(g)}</td>"
                    f"<td>{_e(one_line(why, 400))}</td><td>{_link(g)}</td></tr>")
    note = ("<p>A <em>problem</em> submission was not graded at all (unreadable, missing, "
            "or the grader could not run it); a <em>failed</em> one ran but nothing could "
            "be measured.</p>")
    return (f"{head}\n{note}\n"
            + _table("<th>Student</th><th>Status</th><th>Problem</th><th>Report</th>", rows))


def _similar(pairs: Sequence[SimilarPairLike], by_student: dict[str, Grade]) -> str:
    head = ("<h2>Similar pairs</h2>\n<p>Pairs of submissions whose code looks alike. These "
            "are leads for a human to judge, not proof of copying: shared starter code, "
            "the same tutorial or a common idiom also make code alike.</p>")
    if not pairs:
        return f"{head}\n<p>No similar pairs were found.</p>"
    rows = []
    for p in sorted(pairs, key=lambda p: (-float(p.score), str(p.first), str(p.second))):
        a, b = by_student.get(p.first), by_student.get(p.second)
        rows.append(f"<tr><td><code>{_e(one_line(str(p.first), 120))}</code></td>"
                    f"<td><code>{_e(one_line(str(p.second), 120))}</code></td>"
                    f'<td class="num">{float(p.score):.0%}</td>'
                    f'<td class="num">{int(p.shared_fingerprints)}</td>'
                    f"<td>{_link(a, 'A')} · {_link(b, 'B')}</td></tr>")
    return head + "\n" + _table("<th>Student A</th><th>Student B</th>"
                                '<th class="num">Similarity</th>'
                                '<th class="num">Shared fingerprints</th><th>Reports</th>', rows)


def _everyone(spec: AssignmentSpec, grades: list[Grade]) -> str:
    head = "<h2>All students</h2>"
    if not grades:
        return f"{head}\n<p>No students in this batch.</p>"
    check_heads = "".join(f'<th class="num" title="{_e(c.title)}">{_e(c.id)}</th>'
                          for c in spec.checks)
    rows = []
    for g in grades:
        results = {c.get("id"): c for c in g.checks}
        cells = []
        for check in spec.checks:
            result = results.get(check.id)
            if result is None:
                cells.append(f'<td class="num">{MISSING}</td>')
                continue
            mark = "pt-pass" if _check_passed(result) else "pt-fail"
            cells.append(f'<td class="num {mark}">'
                         f"{_e(fmt_num(float(result.get('points', 0.0))))}</td>")
        score = fmt_points(g.score, _max(g, spec)) if g.status != "problem" else MISSING
        rows.append(f"<tr><td>{_student(g)}</td>"
                    f"<td>{_e(one_line(g.full_name, 120)) if g.full_name else MISSING}</td>"
                    f'<td>{_status(g)}</td><td class="num">{_e(score)}</td>'
                    + "".join(cells) + f"<td>{_link(g)}</td></tr>")
    return head + "\n" + _table("<th>Student</th><th>Full name</th><th>Status</th>"
                                f'<th class="num">Score</th>{check_heads}<th>Report</th>', rows)


def render_summary(spec: AssignmentSpec, grades: list[Grade], pairs: Sequence[SimilarPairLike],
                   *, title: str | None = None) -> str:
    """The whole summary.html page as a string."""
    grades = sorted(grades, key=lambda g: g.student)
    assessed = [g for g in grades if g.status in ASSESSED]
    heading = title or f"{spec.title}: class summary"
    by_student = {g.student: g for g in grades}
    body = "\n".join((_header(spec, grades, assessed, heading),
                      _distribution(spec, grades, assessed), _checks(spec, assessed),
                      _slowest(grades, spec), _trouble(grades), _similar(pairs, by_student),
                      _everyone(spec, grades)))
    versions = ", ".join(sorted({g.grader_version for g in grades if g.grader_version}))
    footer = "nngrade class summary" + (f" · graded by {_e(versions)}" if versions else "")
    return html_page(heading, body, footer, SUMMARY_CSS)


def write_summary(spec: AssignmentSpec, grades: list[Grade], pairs: Sequence[SimilarPairLike],
                  out_dir: Path) -> Path:
    """Write out_dir/summary.html atomically and return its path."""
    text = render_summary(spec, grades, pairs)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / SUMMARY_FILE
    write_atomic(path, text)
    return path
