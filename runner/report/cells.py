"""Cell numbers as a person reads them: "code cell N", N counting code cells from 1.

nngrade runs a notebook fresh from the top, so in the executed notebook the code cell
that shows ``[N]`` is the N-th code cell. report.json keeps each cell's index in the
notebook (markdown cells included) as data; every text a person reads uses this number,
so a report never names one cell two ways.
"""

from __future__ import annotations

from collections.abc import Iterable

from runner.i18n.message import Message, msg


def code_cell_numbers(indices: Iterable[int]) -> dict[int, int]:
    """Each code cell's index in the notebook -> its number among the code cells.

    ``indices`` are those of every code cell of the run (each one is recorded, the
    skipped ones too), in any order.
    """
    return {index: number for number, index in enumerate(sorted(set(indices)), start=1)}


def code_cell(number: int) -> Message:
    """"code cell 3" ("ячейка кода 3"), as a message to render in the reader's language."""
    return msg("cell.code", number=number)
