"""Apply an assignment's checks to a grading context: the only place points are given."""

from __future__ import annotations

from graders.context import GradingContext
from graders.registry import kinds
from runner.assignments import Assignment
from runner.i18n.message import Message, msg
from runner.i18n.render import render
from runner.report.model import CheckOutcome, Mode
from runner.spec import local_text


def totals(checks: list[CheckOutcome]) -> tuple[float, float]:
    """The score and the most it could be, from the checks' outcomes."""
    return round(sum(c.points for c in checks), 2), sum(c.max_points for c in checks)


def score(assignment: Assignment, ctx: GradingContext, mode: Mode,
          language: str = "en") -> list[CheckOutcome]:
    """Evaluate every check of the spec (only public ones in check mode); messages are
    rendered in ``language`` and kept as data beside."""
    registry = kinds()
    outcomes = []
    for check in assignment.spec.checks:
        if mode is Mode.check and not check.public:
            continue
        kind = registry[check.kind]
        message: Message
        try:
            verdict = kind.evaluate(assignment.check_params[check.id], ctx)
            fraction, message = min(1.0, max(0.0, verdict.fraction)), verdict.message
        except Exception as error:  # a grader bug must cost the check, not the report
            fraction = 0.0
            message = msg("check.crashed", error=f"{type(error).__name__}: {error}")
        outcomes.append(CheckOutcome(
            id=check.id, title=local_text(check.title, language),
            titles=check.title if isinstance(check.title, dict) else {},
            points=round(check.points * fraction, 2), max_points=check.points,
            passed=fraction >= 1.0, message=render(message, language), detail=message,
            public=check.public))
    return outcomes
