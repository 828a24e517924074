"""Render a :class:`Message` in a language: its catalogue's template, numbers its way.

Templates use Python's ``str.format`` placeholders. A number takes an optional Python
format spec (``{accuracy:.4f}``, ``{share:.0%}``) and is then written as the language
writes numbers (0,9115 and 12 345 in Russian); without a spec it is written by Babel's
rules for the language. ``{name:n}`` writes an integer plainly (a year, a cell number).
A list parameter is joined with the spec as separator (``{problems:; }``, default
``, ``). A message missing from a catalogue falls back to English, then to its id:
a report is never lost to a missing translation.
"""

from __future__ import annotations

import json
import string
from typing import Any

from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol

from runner.i18n.catalogue import SOURCE_LANGUAGE, catalogue
from runner.i18n.message import Message, as_message, msg

PLURAL_COUNT = "n"
"""The parameter whose value picks a plural form."""


class _Formatter(string.Formatter):
    def __init__(self, language: str):
        super().__init__()
        self.language = language

    def get_value(self, key: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        if key not in kwargs:
            return "{" + str(key) + "}"  # shown, so a missing parameter is visible, not fatal
        return kwargs[key]

    def format_field(self, value: Any, format_spec: str) -> str:
        nested = as_message(value)
        if nested is not None:
            return render(nested, self.language)
        if isinstance(value, list | tuple):
            separator = format_spec or ", "
            return separator.join(self.format_field(item, "") for item in value)
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return str(value)
        if isinstance(value, int | float):
            return number(value, format_spec, self.language)
        return str(value)


def number(value: float, spec: str, language: str) -> str:
    """``value`` as ``language`` writes it, with an optional Python format spec."""
    if spec == "n":
        return str(int(value)) if float(value).is_integer() else str(value)
    if not spec:
        return format_decimal(value, locale=language)
    text = format(value, spec)
    group, decimal = get_group_symbol(language), get_decimal_symbol(language)
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group)


def template(message_id: str, language: str, count: int | None = None) -> str | None:
    """The template of ``message_id`` in ``language``, else in English, else None."""
    for lang in dict.fromkeys((language, SOURCE_LANGUAGE)):
        text = catalogue(lang).text(message_id, count)
        if text:
            return text
    return None


def render(message: Message, language: str) -> str:
    """The message as a sentence of ``language``."""
    count = message.params.get(PLURAL_COUNT)
    text = template(message.id, language, int(count) if isinstance(count, int | float)
                    else None)
    if text is None:
        return f"{message.id} {json.dumps(message.params, ensure_ascii=False, default=str)}"
    try:
        return _Formatter(language).vformat(text, (), dict(message.params))
    except (ValueError, IndexError, TypeError) as error:  # a broken template: say so, keep going
        return f"{text} [{type(error).__name__}: {error}]"


class Translator:
    """Rendering bound to one language: ``t("report.checks")``, ``t(message)``."""

    def __init__(self, language: str):
        catalogue(language)  # fails early, naming the languages there are
        self.language = language

    def __call__(self, message: Message | str, /, **params: Any) -> str:
        if isinstance(message, str):
            message = msg(message, **params)
        return render(message, self.language)

    def number(self, value: float, spec: str = "") -> str:
        return number(value, spec, self.language)
