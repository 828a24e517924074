"""The check every assignment has: the notebook runs from top to bottom."""

from __future__ import annotations

from graders.context import GradingContext
from graders.registry import Verdict, check_kind


@check_kind("executes")
def executes(_params: object, ctx: GradingContext) -> Verdict:
    """Every cell ran without an error, a timeout or a dead kernel."""
    bad = [cell for cell in ctx.cells if cell.status != "ok"]
    if not bad and not ctx.stopped:
        return Verdict.passed(f"all {len(ctx.cells)} code cells ran without errors")
    if bad:
        first = bad[0]
        what = {
            "error": "raised an error",
            "timeout": "ran past its time limit",
            "kernel-died": "killed the kernel",
            "killed": "was stopped",
            "skipped": "was not run",
        }.get(first.status, first.status)
        detail = f": {first.error}" if first.error else ""
        return Verdict.failed(f"cell {first.index + 1} {what}{detail}; cells after it did not run")
    return Verdict.failed(f"execution stopped: {ctx.stopped}")
