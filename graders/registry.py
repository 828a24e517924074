"""Check kinds by name: the one seam between specs and grading logic.

A kind is a function ``(params, context) -> Verdict`` plus the pydantic model
its ``params`` must satisfy. Modules register kinds with :func:`check_kind`;
:func:`kinds` imports every module of this package once, so a module added
for a new assignment is picked up without touching the engine.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from graders.context import GradingContext
from runner.i18n.message import Message


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Verdict:
    """Outcome of a check: the share of its points earned and why, as a message to render
    in the report's language (``runner.i18n``), never a finished sentence."""

    fraction: float
    message: Message

    @classmethod
    def passed(cls, message: Message) -> Verdict:
        return cls(1.0, message)

    @classmethod
    def failed(cls, message: Message) -> Verdict:
        return cls(0.0, message)


CheckFunction = Callable[[Any, GradingContext], Verdict]


@dataclass(frozen=True)
class CheckKind:
    name: str
    params: type[BaseModel]
    evaluate: CheckFunction
    doc: str


_KINDS: dict[str, CheckKind] = {}
_loaded = False


def check_kind(
    name: str, params: type[BaseModel] = NoParams
) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as check kind ``name``."""

    def register(function: CheckFunction) -> CheckFunction:
        if name in _KINDS and _KINDS[name].evaluate is not function:
            raise ValueError(f"check kind {name!r} is registered twice")
        doc = (function.__doc__ or "").strip().splitlines()[0] if function.__doc__ else ""
        _KINDS[name] = CheckKind(name, params, function, doc)
        return function

    return register


def kinds() -> dict[str, CheckKind]:
    """All check kinds, importing every module of the ``graders`` package once."""
    global _loaded
    if not _loaded:
        import graders

        for module in pkgutil.iter_modules(graders.__path__):
            importlib.import_module(f"graders.{module.name}")
        _loaded = True
    return dict(_KINDS)
