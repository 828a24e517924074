"""`nngrade dataset ...`: the datasets nngrade knows, and stand-ins for those it cannot get."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from runner.datasets.registry import DATASETS_ENV, registry
from runner.datasets.standin import write_standin

dataset_app = typer.Typer(help="Datasets: what is declared, and generated stand-ins.",
                          no_args_is_help=True)
console = Console()


@dataset_app.command("list")
def list_datasets() -> None:
    """Every declared dataset (datasets/*.yaml, and those in $NNGRADE_DATASETS)."""
    table = Table("name", "title", "task", "format", "sample")
    for name, spec in sorted(registry().items()):
        table.add_row(name, escape(spec.title), spec.task.value, spec.format.value,
                      "×".join(map(str, spec.sample.shape)) + f" {spec.sample.dtype}")
    console.print(table)


@dataset_app.command()
def standin(
    name: Annotated[str, typer.Argument(help="Dataset to stand in for, e.g. cifar10.")],
    out: Annotated[Path, typer.Option(help="Folder to write the files and dataset file to.")],
    train: Annotated[int, typer.Option(min=20, help="Training images.")] = 5000,
    test: Annotated[int, typer.Option(min=10, help="Test images (the hidden part).")] = 1000,
    heldout: Annotated[int, typer.Option(
        min=10, help="Public held-out images, cut from the training images.")] = 500,
) -> None:
    """Write a generated stand-in for a dataset in its real file format.

    For datasets these machines cannot download (CIFAR-10): the same archive, files and
    format, with made-up, learnable images, and a dataset file that declares them under
    the real name with their own checksums. Grade against it by putting the folder in
    $NNGRADE_DATASETS; nothing else changes, and the real dataset's cache stays apart.
    """
    spec = write_standin(name, out, train=train, test=test, heldout=heldout)
    assert spec.archive is not None
    console.print(f"wrote {escape(str(out / spec.archive.name))} ({train} training and {test} "
                  f"test images) and {escape(str(out / (spec.name + '.yaml')))}")
    console.print(f"grade against it with: {DATASETS_ENV}={escape(str(out.resolve()))} "
                  "nngrade ...")
