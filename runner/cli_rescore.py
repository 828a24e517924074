"""`nngrade rescore`: apply changed checks, thresholds or points to a graded class."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from runner.cli_language import help_text
from runner.i18n.render import Translator
from runner.rescore import rescore_class

console = Console()


def rescore(
    out: Annotated[Path, typer.Argument(metavar="CLASS_OUT", help=help_text(
        "cli.help.rescore.out"))],
    db: Annotated[str | None, typer.Option(help=help_text("cli.help.review.db"))] = None,
) -> None:
    """Score a graded class again from what was measured, without running a notebook."""
    result = rescore_class(out, gradebook=db)
    t = Translator(result.info.language)
    if result.changed:
        table = Table(t("cli.batch.student"), t("cli.rescore.before"), t("cli.rescore.after"),
                      title=t("cli.rescore.changed_title"))
        for change in result.changed:
            table.add_row(escape(change.student), t.number(change.before, "g"),
                          t.number(change.after, "g"))
        console.print(table)
    for student, reason in sorted(result.needs_rerun.items()):
        console.print(f"[yellow]{escape(t('cli.rescore.rerun', student=student))}[/] "
                      + escape(t(reason)))
    console.print(t("cli.rescore.done", rescored=len(result.changed) + len(result.unchanged),
                    changed=len(result.changed), rerun=len(result.needs_rerun),
                    seconds=result.seconds), markup=False)
    if result.needs_rerun:
        console.print(t("cli.rescore.rerun_hint", assignment=result.info.assignment,
                        out=str(out)), markup=False)
