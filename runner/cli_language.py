"""The language the command line speaks, its own words and Typer's, Russian or English.

Which language: a command writes in :func:`choose` ``(--lang, spec language)``: the
flag (the command's, else ``nngrade --lang X``'s), then ``$NNGRADE_LANG``, then the
assignment's language, then English, as ``choose_language`` has it for reports; the
choice is settled, so an error raised later in the command is printed in it too. What
is printed before a command knows its spec (``--help``, a usage error, an error raised
while reading the spec) is in :data:`STARTUP`: ``--lang X``/``--lang=X`` found in
``sys.argv``, else ``$NNGRADE_LANG``, else English.

Typer's own words. Typer 0.29 vendors click without gettext, and itself asks
``gettext.gettext`` (the global default domain) only for a few words, some of them
(``Options``, ``Arguments``, ``Commands``, ``Error``, ``[default: …]``, "Try … for
help") bound to constants when ``typer.rich_utils`` is imported. Those are translated
the gettext way, from ``i18n/click/<language>.po`` (msgids: Typer's and click's exact
English), compiled by Babel in memory to a ``GNUTranslations``. Standard gettext finds a
domain's compiled ``.mo`` file on disk through ``$LANGUAGE``/``$LC_ALL``/``$LC_MESSAGES``/
``$LANG``; setting one would leak into every process nngrade starts that does not build
its environment from scratch (``docker build``, pip, the student environment's Python,
Ray workers) and change what *they* print, and a file would have to be written first.
So instead, while (and only while) Typer is imported, ``gettext.gettext`` and
``gettext.ngettext`` are that translation's methods: the names Typer binds
(``from gettext import gettext as _``) are the translation's, and the stdlib functions
are restored at once; no environment variable, file or later import sees a change.
(An older Typer that uses click imports click then too, so click's words are in the same
catalogue.) If Typer was imported before this module, its words stay English.

The vendored click's words ("Usage:", "Show this message and exit.", "Missing argument",
"No such option", ...) are plain English strings, not gettext's: :class:`Command` and
:class:`Group` (pass them as Typer's ``cls``) put ``cli.click.*`` messages of ``cli.po``
in their place for a reader of another language; in English, Typer's text stays as it is.
"""

from __future__ import annotations

import contextlib
import gettext
import io
import os
import sys
from collections.abc import Iterator, Sequence
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from runner.i18n.catalogue import SOURCE_LANGUAGE, languages
from runner.i18n.language import LANG_ENV, choose_language
from runner.i18n.render import Translator

TYPER_CATALOGUES = Path(__file__).parent / "i18n" / "click"
"""``<language>.po``: gettext catalogues of Typer's and click's own English words."""


def language_from_argv(argv: Sequence[str] | None = None,
                       environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """The language named by the last ``--lang X``/``--lang=X``, else ``$NNGRADE_LANG``,
    else English; a language nngrade has no messages in is passed over (the command says
    so itself, once it reads the flag)."""
    args = list(sys.argv[1:] if argv is None else argv)
    environ = os.environ if environ is None else environ
    known = set(languages())
    named = None
    for position, arg in enumerate(args):
        if arg == "--":
            break
        value = (args[position + 1] if arg == "--lang" and position + 1 < len(args)
                 else arg.partition("=")[2] if arg.startswith("--lang=") else None)
        if value in known:
            named = value
    if named:
        return named
    from_env = environ.get(LANG_ENV)
    return from_env if from_env in known else SOURCE_LANGUAGE


STARTUP = language_from_argv()
"""The language of ``--help`` and of what is printed before a command knows its spec."""

_settled = STARTUP


_before_command: str | None = None


def settle(language: str) -> str:
    """Record the language a command has chosen (for its errors too); returns it."""
    global _settled
    _settled = language
    return language


def given_before_command(lang: str | None) -> None:
    """``nngrade --lang ru list``: the group's ``--lang``, every command's default."""
    global _before_command
    if lang:
        _before_command = lang
        settle(choose_language(lang))


def flag(lang: str | None) -> str | None:
    """A command's ``--lang``, else the one given before the command."""
    return lang or _before_command


def choose(lang: str | None, spec_language: str | None = None) -> str:
    """The language a command writes in (``choose_language`` with :func:`flag`), settled."""
    return settle(choose_language(flag(lang), spec_language))


def current() -> str:
    """The language the CLI speaks now: the command's, once it has settled, else STARTUP."""
    return _settled


def say(message_id: str, /, **params: Any) -> str:
    """A ``cli.…`` message in the CLI's current language."""
    return Translator(current())(message_id, **params)


def help_text(message_id: str, /, **params: Any) -> str:
    """A help text (``--help`` is printed before any spec is known): in STARTUP."""
    return Translator(STARTUP)(message_id, **params)


# --- Typer's gettext words ---------------------------------------------------------------


def typer_translations(language: str) -> gettext.GNUTranslations | None:
    """Typer's and click's words in ``language``, compiled in memory; None in English or
    for a language without such a catalogue."""
    path = TYPER_CATALOGUES / f"{language}.po"
    if language == SOURCE_LANGUAGE or not path.is_file():
        return None
    with path.open("rb") as source:
        catalogue = read_po(source, locale=language, domain="messages")
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@contextlib.contextmanager
def _gettext_is(translations: gettext.NullTranslations) -> Iterator[None]:
    saved = gettext.gettext, gettext.ngettext
    gettext.gettext, gettext.ngettext = translations.gettext, translations.ngettext
    try:
        yield
    finally:
        gettext.gettext, gettext.ngettext = saved


def import_typer_in(language: str) -> bool:
    """Import Typer with its gettext words in ``language``; False if it stays English
    (English asked for, no catalogue, or Typer already imported)."""
    translations = typer_translations(language)
    if translations is None or "typer" in sys.modules:
        return False
    with _gettext_is(translations):
        import typer
        import typer.core
        import typer.rich_utils  # noqa: F401
    return True


import_typer_in(STARTUP)

import typer.core  # noqa: E402  (after the words are in place)

# --- the vendored click's words ----------------------------------------------------------


def _in_source_language() -> bool:
    return current() == SOURCE_LANGUAGE


class _Words:
    """Usage line, help option and usage errors in the reader's language."""

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        if _in_source_language():
            return super().format_usage(ctx, formatter)  # type: ignore[misc]
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces),
                              prefix=say("cli.click.usage") + " ")

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)  # type: ignore[misc]
        if _in_source_language():
            return pieces
        placeholders = {getattr(self, "options_metavar", None): "cli.click.options_metavar",
                        getattr(self, "subcommand_metavar", None): "cli.click.command_metavar"}
        placeholders.pop(None, None)
        return [say(placeholders[piece]) if piece in placeholders else piece
                for piece in pieces]

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None and not _in_source_language():
            option.help = say("cli.click.help_option")
        return option

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)  # type: ignore[misc]
        except Exception as error:
            translated = usage_error_in_reader_language(error)
            if translated is error:
                raise
            raise translated from None


class Command(_Words, typer.core.TyperCommand):
    """A Typer command that speaks the reader's language."""


class Group(_Words, typer.core.TyperGroup):
    """A Typer group that speaks the reader's language, down to "no such command"."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else None
        if (name is not None and not _in_source_language() and not ctx.resilient_parsing
                and not name.startswith("-") and self.get_command(ctx, name) is None):
            text = say("cli.click.no_such_command", name=repr(name))
            close = get_close_matches(name, list(self.commands))
            if close:
                text += " " + say("cli.click.did_you_mean",
                                  commands=", ".join(repr(c) for c in close))
            ctx.fail(text)
        return super().resolve_command(ctx, args)


_PYDANTIC_PROBLEMS = {
    "int_parsing": "cli.click.value.integer", "int_from_float": "cli.click.value.integer",
    "float_parsing": "cli.click.value.number", "bool_parsing": "cli.click.value.boolean",
    "greater_than_equal": "cli.click.value.at_least", "greater_than": "cli.click.value.over",
    "less_than_equal": "cli.click.value.at_most", "less_than": "cli.click.value.under",
}
_LIMITS = ("ge", "gt", "le", "lt")


def usage_error_in_reader_language(error: BaseException) -> BaseException:
    """A usage error of Typer's (vendored) click, said again in the CLI's language; the
    error itself when English is spoken or it is one this does not know."""
    if _in_source_language():
        return error
    text = _usage_text(error)
    if text is None:
        return error
    usage_error = next((c for c in type(error).__mro__ if c.__name__ == "UsageError"), None)
    if usage_error is None:
        return error
    return usage_error(text, getattr(error, "ctx", None))


def _usage_text(error: BaseException) -> str | None:
    kind = type(error).__name__
    message = getattr(error, "message", None)
    if kind == "MissingParameter":
        param = getattr(error, "param", None)
        what = getattr(error, "param_type", None) or getattr(param, "param_type_name", None)
        hint = _hint(error)
        if what not in ("argument", "option") or hint is None or message:
            return None
        return say(f"cli.click.missing_{what}", name=hint)
    if kind == "NoSuchOption":
        name = getattr(error, "option_name", "")
        if message != f"No such option: {name}":
            return None
        text = say("cli.click.no_such_option", name=name)
        possibilities = getattr(error, "possibilities", None)
        if possibilities:
            text += " " + say("cli.click.possible_options",
                              options=", ".join(sorted(possibilities)))
        return text
    if kind == "BadOptionUsage":
        name = getattr(error, "option_name", "")
        if message == f"Option {name!r} requires an argument.":
            return say("cli.click.requires_value", name=repr(name))
        if message == f"Option {name!r} does not take a value.":
            return say("cli.click.takes_no_value", name=repr(name))
        return None
    if kind == "BadParameter":
        hint = _hint(error)
        problem = _value_problem(error)
        if hint is None or problem is None:
            return None
        return say("cli.click.invalid_value", name=hint, problem=problem)
    if kind == "UsageError" and isinstance(message, str):
        prefix = "Got unexpected extra argument(s) ("
        if message.startswith(prefix) and message.endswith(")"):
            return say("cli.click.extra_arguments", args=message[len(prefix):-1])
    return None


def _hint(error: BaseException) -> str | None:
    hint = getattr(error, "param_hint", None)
    param = getattr(error, "param", None)
    if hint is None and param is not None:
        try:
            hint = param.get_error_hint()
        except TypeError:  # click's own takes the context
            hint = param.get_error_hint(getattr(error, "ctx", None))
    if hint is not None and not isinstance(hint, str):
        hint = " / ".join(repr(x) for x in hint)
    return hint


def _value_problem(error: BaseException) -> str | None:
    """Why a value was refused, from pydantic's error type (Typer validates with it)."""
    cause = error.__cause__
    problems = getattr(cause, "errors", None)
    if not callable(problems):
        return None
    try:
        first = problems()[0]
    except (IndexError, TypeError):
        return None
    message_id = _PYDANTIC_PROBLEMS.get(first.get("type", ""))
    if message_id is None:
        return None
    limits = first.get("ctx") or {}
    limit = next((limits[key] for key in _LIMITS if key in limits), None)
    return say(message_id, limit=limit) if limit is not None else say(message_id)
