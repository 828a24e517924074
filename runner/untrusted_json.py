"""Parse JSON that a student could have shaped: errors are values, never crashes.

``json.loads`` raises ``RecursionError`` on deep nesting and a bare ``ValueError``
(not ``JSONDecodeError``) on an integer over Python's digit limit; code that
reads submissions or sandbox output must not let either escape as a traceback.
Limiting the depth also keeps every recursive consumer afterwards (nbformat's
conversion and validation, ``deepcopy``, ``json.dumps``) far from the stack limit.
"""

from __future__ import annotations

import json
from typing import Any

from runner.errors import english
from runner.i18n.message import Message, msg

MAX_DEPTH = 100  # real notebooks nest about 10 levels (widget state, Plotly figures: ~20)


class UntrustedJSONError(ValueError):
    """The bytes are not JSON this program accepts; ``str()`` says why in one line, in
    English; ``detail`` is that line as a message, to render in any language."""

    def __init__(self, detail: Message) -> None:
        self.detail = detail
        super().__init__(english(detail))


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``data``; raise UntrustedJSONError when it is not JSON or nests over ``max_depth``."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise UntrustedJSONError(msg("error.json.too_deep", n=max_depth)) from None
    except json.JSONDecodeError as error:
        raise UntrustedJSONError(msg("error.json.invalid_at", line=error.lineno,
                                     column=error.colno)) from None
    except ValueError as error:  # UnicodeDecodeError, or an integer with too many digits
        raise UntrustedJSONError(msg("error.json.invalid", error=str(error).splitlines()[0])
                                 ) from None
    if depth(value, limit=max_depth) > max_depth:
        raise UntrustedJSONError(msg("error.json.too_deep", n=max_depth))
    return value


def depth(value: Any, *, limit: int) -> int:
    """Nesting depth of lists and dicts in ``value`` (a scalar is 0), at most ``limit + 1``.

    Iterative, so a value nested too deep to recurse over is measured safely.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        if level > limit:
            return level
        deepest = max(deepest, level)
        stack.extend((child, level) for child in children if isinstance(child, dict | list))
    return deepest
