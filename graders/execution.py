"""The check every assignment has: the notebook runs from top to bottom."""

from __future__ import annotations

from graders.context import GradingContext
from graders.registry import Verdict, check_kind
from runner.report.cells import code_cell, code_cell_numbers

FAILURES = {
    "error": "raised an error",
    "timeout": "ran past its time limit",
    "kernel-died": "killed the kernel",
    "killed": "was stopped",
    "skipped": "was not run",
}


@check_kind("executes")
def executes(_params: object, ctx: GradingContext) -> Verdict:
    """Every code cell ran without an error, a timeout or a dead kernel; there was one."""
    bad = [cell for cell in ctx.cells if cell.status != "ok"]
    if bad:
        first = min(bad, key=lambda cell: cell.index)
        number = code_cell_numbers(cell.index for cell in ctx.cells)[first.index]
        detail = f": {first.error}" if first.error else ""
        return Verdict.failed(f"{code_cell(number)} {FAILURES.get(first.status, first.status)}"
                              f"{detail}; the cells after it did not run")
    if ctx.stopped:
        return Verdict.failed(f"execution stopped: {ctx.stopped}")
    if not ctx.cells:  # nothing ran, so nothing ran wrong: still not a notebook that runs
        return Verdict.failed("the notebook has no code cells")
    return Verdict.passed(f"all {len(ctx.cells)} code cells ran without errors")
