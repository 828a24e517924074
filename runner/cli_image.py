"""`nngrade image ...`: build and inspect the grading image."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from runner.cli_language import Command, Group, choose, given_before_command, help_text
from runner.i18n.render import Translator
from runner.image import CPU_TENSORFLOW, DEFAULT_TENSORFLOW, build_image
from runner.sandbox import engine

image_app = typer.Typer(cls=Group, help=help_text("cli.help.image"), no_args_is_help=True)
console = Console()


LangOption = Annotated[str | None, typer.Option(
    "--lang", help=help_text("cli.help.option.lang_messages"))]


@image_app.callback()
def _images(lang: LangOption = None) -> None:
    """`nngrade image`: its help text is cli.help.image."""
    given_before_command(lang)


@image_app.command(cls=Command, help=help_text("cli.help.image.build"))
def build(
    tag: Annotated[str, typer.Option(help=help_text("cli.help.image.tag"))
                   ] = engine.DEFAULT_IMAGE,
    base: Annotated[str | None, typer.Option(help=help_text("cli.help.image.base"))] = None,
    tensorflow: Annotated[str, typer.Option(help=help_text(
        "cli.help.image.tensorflow", gpu=escape(DEFAULT_TENSORFLOW), cpu=CPU_TENSORFLOW))
    ] = DEFAULT_TENSORFLOW,
    cpu: Annotated[bool, typer.Option(
        "--cpu", help=help_text("cli.help.image.cpu", cpu=CPU_TENSORFLOW))] = False,
    wheelhouse: Annotated[Path | None, typer.Option(
        help=help_text("cli.help.image.wheelhouse"))] = None,
    lang: LangOption = None,
) -> None:
    """Build the grading image from the repository's Dockerfile."""
    t = Translator(choose(lang))
    with console.status(escape(t("cli.image.building", tag=tag))) as status:
        def show(line: str) -> None:
            status.update(escape(t("cli.image.building_step", tag=tag, line=line.strip()[:100])))
            if line.startswith("Step "):
                console.print(f"[dim]{escape(line.strip()[:160])}[/]")

        image_id = build_image(tag=tag, base=base,
                               tensorflow=CPU_TENSORFLOW if cpu else tensorflow,
                               wheelhouse=wheelhouse, on_line=show)
    console.print(t("cli.image.built", tag=tag, id=image_id[:19]), markup=False)
