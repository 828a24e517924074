"""A sentence as data: a catalogue id and its parameters, rendered in any language later.

Check kinds, notes and report headings never build finished sentences; they return a
:class:`Message`, which ``report.json`` keeps beside its rendering so a report can be
rendered again in another language without grading again. A parameter is plain data
(text from outside, such as a cell's error, is kept as it is), a nested message (a plural
word, an architecture described in words), or a list of those.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Param = Any
"""str | int | float | bool | None | Message | list[Param]: checked by ``_valid_param``."""

MAX_DEPTH = 8


class Message(BaseModel):
    """A catalogue id (``check.executes.passed``) and the values its placeholders take."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", max_length=120)
    params: dict[str, Param] = Field(default_factory=dict)

    def model_post_init(self, _context: Any) -> None:
        for name, value in self.params.items():
            _valid_param(name, value, 0)


def _valid_param(name: str, value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"parameter {name!r} nests deeper than {MAX_DEPTH}")
    if value is None or isinstance(value, (str, int, float, bool, Message)):
        return
    if isinstance(value, dict) and "id" in value:  # a nested message read back from JSON
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _valid_param(name, item, depth + 1)
        return
    raise TypeError(f"parameter {name!r} of a message is a {type(value).__name__}; "
                    "use text, a number, a Message or a list of them")


def msg(message_id: str, /, **params: Param) -> Message:
    """``msg("check.executes.passed", cells=3)``: the short way to write a message."""
    return Message(id=message_id, params=params)


def as_message(value: Param) -> Message | None:
    """A nested message, whether built here or read back from ``report.json``."""
    if isinstance(value, Message):
        return value
    if isinstance(value, dict) and "id" in value:
        return Message.model_validate(value)
    return None
