"""`nngrade dataset ...`: the datasets nngrade knows, the files a notebook gets of a
generated one, and stand-ins for those it cannot get."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from runner.cli_language import Command, Group, choose, given_before_command, help_text
from runner.datasets.drawn_files import copy_drawn
from runner.datasets.registry import DATASETS_ENV, get_spec, registry
from runner.datasets.standin import write_standin
from runner.errors import NngradeError
from runner.i18n.message import msg
from runner.i18n.render import Translator

dataset_app = typer.Typer(cls=Group, help=help_text("cli.help.dataset"), no_args_is_help=True)
console = Console()
LangOption = Annotated[str | None, typer.Option(
    "--lang", help=help_text("cli.help.option.lang_messages"))]


@dataset_app.callback()
def _datasets(lang: LangOption = None) -> None:
    """`nngrade dataset`: its help text is cli.help.dataset."""
    given_before_command(lang)


@dataset_app.command("list", cls=Command, help=help_text("cli.help.dataset.list"))
def list_datasets(lang: LangOption = None) -> None:
    """Every declared dataset (datasets/*.yaml, and those in $NNGRADE_DATASETS)."""
    t = Translator(choose(lang))
    table = Table(t("cli.dataset.name"), t("cli.dataset.title"), t("cli.dataset.task"),
                  t("cli.dataset.format"), t("cli.dataset.sample"))
    for name, spec in sorted(registry().items()):
        table.add_row(name, escape(spec.title), spec.task.value, spec.format.value,
                      "×".join(map(str, spec.sample.shape)) + f" {spec.sample.dtype}")
    console.print(table)


@dataset_app.command(cls=Command, help=help_text("cli.help.dataset.public"))
def public(
    name: Annotated[str, typer.Argument(help=help_text("cli.help.dataset.public_name"))],
    out: Annotated[Path, typer.Option(help=help_text("cli.help.dataset.public_out"))],
    lang: LangOption = None,
) -> None:
    """Write the public sample of a generated dataset, as notebooks find it when graded."""
    t = Translator(choose(lang))
    spec = get_spec(name)
    if spec.loaders.drawn is None:
        raise NngradeError(msg("error.dataset.no_drawn_files", name=name),
                           hint=msg("error.dataset.no_drawn_files.hint"))
    for path in copy_drawn(spec, out):
        console.print(t("cli.dataset.wrote_public", path=str(path)), markup=False)


@dataset_app.command(cls=Command, help=help_text("cli.help.dataset.standin"))
def standin(
    name: Annotated[str, typer.Argument(help=help_text("cli.help.dataset.name"))],
    out: Annotated[Path, typer.Option(help=help_text("cli.help.dataset.out"))],
    train: Annotated[int, typer.Option(min=20, help=help_text("cli.help.dataset.train"))
                     ] = 5000,
    test: Annotated[int, typer.Option(min=10, help=help_text("cli.help.dataset.test"))] = 1000,
    heldout: Annotated[int, typer.Option(
        min=10, help=help_text("cli.help.dataset.heldout"))] = 500,
    lang: LangOption = None,
) -> None:
    """Write a generated stand-in for a dataset in its real file format."""
    t = Translator(choose(lang))
    spec = write_standin(name, out, train=train, test=test, heldout=heldout)
    written = (out / spec.archive.name if spec.archive
               else out / spec.tfds.name / spec.tfds.version if spec.tfds else out)
    console.print(t("cli.dataset.wrote", archive=str(written), train=train,
                    test=test, spec=str(out / (spec.name + ".yaml"))), markup=False)
    console.print(t("cli.dataset.grade_with", setting=f"{DATASETS_ENV}={out.resolve()}"),
                  markup=False)
