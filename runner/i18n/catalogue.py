"""The message catalogues: gettext ``.po`` files, a folder a language in ``locales/``.

``locales/<language>/*.po`` (``checks.po`` for the check kinds, ``report.po`` for the
reports, ...) are read with Babel, merged, and compiled in memory to gettext's own
translations, so plural forms follow the ``Plural-Forms`` header (Russian has three:
1 модель, 2 модели, 5 моделей) and no compiled file has to be kept in step with its
source. Adding a language is adding a folder of catalogues; ``tests/test_i18n.py``
fails on an id one language lacks, an empty translation, or placeholders that differ
between languages.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = Path(__file__).with_name("locales")
DOMAIN = "nngrade"
SOURCE_LANGUAGE = "en"


@dataclass(frozen=True)
class Catalogue:
    """One language's translations, and which ids have plural forms (their plural ids)."""

    language: str
    translations: Translations
    plurals: dict[str, str]
    ids: frozenset[str]

    def text(self, message_id: str, count: int | None = None) -> str | None:
        """The template for ``message_id`` (the plural form for ``count``), None if missing."""
        if message_id not in self.ids:
            return None
        if message_id in self.plurals:
            return self.translations.ngettext(message_id, self.plurals[message_id],
                                              1 if count is None else count)
        return self.translations.gettext(message_id)


def languages() -> list[str]:
    """The languages there are catalogues for, by folder name."""
    return sorted({path.parent.name for path in LOCALES.glob("*/*.po")})


def read_catalogues(language: str) -> Catalog:
    """Every ``.po`` file of ``language`` merged into one Babel catalogue; ValueError on an
    id two files both define (which one would win is not for load order to decide)."""
    folder = LOCALES / language
    files = sorted(folder.glob("*.po"))
    if not files:
        raise KeyError(f"no message catalogue for language {language!r}; there are: "
                       + ", ".join(languages()))
    merged: Catalog | None = None
    origin: dict[str, Path] = {}
    for path in files:
        with path.open("rb") as source:
            parsed = read_po(source, locale=language, domain=DOMAIN)
        if merged is None:
            merged = parsed
            origin = {_key(m.id): path for m in parsed if m.id}
            continue
        for message in parsed:
            if not message.id:
                continue
            key = _key(message.id)
            if key in origin:
                raise ValueError(f"{path}: message {key!r} is also in {origin[key]}")
            origin[key] = path
            merged[message.id] = message
    assert merged is not None
    return merged


def _key(message_id: str | tuple[str, ...] | list[str]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


@functools.cache
def catalogue(language: str) -> Catalogue:
    """The compiled catalogue of ``language``; KeyError naming those there are if none."""
    parsed = read_catalogues(language)
    plurals: dict[str, str] = {}
    ids: set[str] = set()
    for message in parsed:
        if not message.id:
            continue  # the header
        ids.add(_key(message.id))
        if not isinstance(message.id, str):
            plurals[message.id[0]] = message.id[1]
    compiled = io.BytesIO()
    write_mo(compiled, parsed)
    compiled.seek(0)
    return Catalogue(language, Translations(compiled, domain=DOMAIN), plurals, frozenset(ids))
