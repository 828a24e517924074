"""`nngrade image ...`: build and inspect the grading image."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from runner.image import CPU_TENSORFLOW, DEFAULT_TENSORFLOW, build_image
from runner.sandbox import engine

image_app = typer.Typer(help="Build the grading image the Docker backend runs.",
                        no_args_is_help=True)
console = Console()


@image_app.command()
def build(
    tag: Annotated[str, typer.Option(help="Name of the image to build.")] = engine.DEFAULT_IMAGE,
    base: Annotated[str | None, typer.Option(
        help="Base image (default: the Dockerfile's CUDA runtime image). For hosts that "
             "reach no registry, build a Debian one first: image/debian-base.sh.")] = None,
    tensorflow: Annotated[str, typer.Option(
        help=f"TensorFlow requirement: {escape(DEFAULT_TENSORFLOW)} for GPU hosts, "
             f"{CPU_TENSORFLOW} for a smaller CPU-only image.")] = DEFAULT_TENSORFLOW,
    cpu: Annotated[bool, typer.Option(
        "--cpu", help=f"Shorthand for --tensorflow {CPU_TENSORFLOW}.")] = False,
    wheelhouse: Annotated[Path | None, typer.Option(
        help="Download every wheel into this folder with this host's pip first, and install "
             "from there: for hosts whose containers reach no package index. The base "
             "image's Python must match this host's (e.g. 3.11 for Debian bookworm).")] = None,
) -> None:
    """Build the grading image from the repository's Dockerfile.

    The image holds Python, PyTorch, TensorFlow/Keras (tf-keras for Keras 2 code),
    Jupyter's kernel and the in-sandbox agent; never graders, hidden data or
    reference solutions. On a GPU host with internet access the defaults are right.
    """
    with console.status(f"building {tag}") as status:
        def show(line: str) -> None:
            status.update(f"building {tag}: {line.strip()[:100]}")
            if line.startswith("Step "):
                console.print(f"[dim]{line.strip()[:160]}[/]")

        image_id = build_image(tag=tag, base=base,
                               tensorflow=CPU_TENSORFLOW if cpu else tensorflow,
                               wheelhouse=wheelhouse, on_line=show)
    console.print(f"built {tag} ({image_id[:19]})")
