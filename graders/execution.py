"""The check every assignment has: the notebook runs from top to bottom."""

from __future__ import annotations

from graders.context import GradingContext
from graders.registry import Verdict, check_kind
from runner.i18n.message import Message, msg
from runner.report.cells import code_cell, code_cell_numbers

FAILURES = ("error", "timeout", "kernel-died", "killed", "skipped")
"""Cell statuses with words of their own: ``check.executes.status.<status>``."""


def _failure(status: str) -> Message | str:
    """What a cell with ``status`` did, in words ("raised an error"); an unknown status
    as it is."""
    if status in FAILURES:
        return msg("check.executes.status." + status.replace("-", "_"))
    return status


@check_kind("executes")
def executes(_params: object, ctx: GradingContext) -> Verdict:
    """Every code cell ran without an error, a timeout or a dead kernel; there was one."""
    bad = [cell for cell in ctx.cells if cell.status != "ok"]
    if bad:
        first = min(bad, key=lambda cell: cell.index)
        number = code_cell_numbers(cell.index for cell in ctx.cells)[first.index]
        cell, what = code_cell(number), _failure(first.status)
        if first.error:
            return Verdict.failed(msg("check.executes.failed_with_error", cell=cell, what=what,
                                      error=first.error))
        return Verdict.failed(msg("check.executes.failed", cell=cell, what=what))
    if ctx.stopped:
        return Verdict.failed(msg("check.executes.stopped", reason=ctx.stopped))
    if not ctx.cells:  # nothing ran, so nothing ran wrong: still not a notebook that runs
        return Verdict.failed(msg("check.executes.no_cells"))
    return Verdict.passed(msg("check.executes.passed", n=len(ctx.cells)))
