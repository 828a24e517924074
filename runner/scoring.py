"""Apply an assignment's checks to a grading context: the only place points are given."""

from __future__ import annotations

from graders.context import GradingContext
from graders.registry import kinds
from runner.assignments import Assignment
from runner.report.model import CheckOutcome, Mode


def score(assignment: Assignment, ctx: GradingContext, mode: Mode) -> list[CheckOutcome]:
    """Evaluate every check of the spec (only public ones in check mode)."""
    registry = kinds()
    outcomes = []
    for check in assignment.spec.checks:
        if mode is Mode.check and not check.public:
            continue
        kind = registry[check.kind]
        try:
            verdict = kind.evaluate(assignment.check_params[check.id], ctx)
            fraction, message = min(1.0, max(0.0, verdict.fraction)), verdict.message
        except Exception as error:  # a grader bug must cost the check, not the report
            fraction, message = 0.0, f"the check itself failed ({type(error).__name__}: {error})"
        outcomes.append(CheckOutcome(
            id=check.id, title=check.title, points=round(check.points * fraction, 2),
            max_points=check.points, passed=fraction >= 1.0, message=message,
            public=check.public))
    return outcomes
