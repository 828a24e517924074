"""Which language a person reads: ``--lang``, then ``$NNGRADE_LANG``, then the spec."""

from __future__ import annotations

import os

from runner.errors import NngradeError
from runner.i18n.catalogue import SOURCE_LANGUAGE, languages

LANG_ENV = "NNGRADE_LANG"


def choose_language(flag: str | None = None, spec_language: str | None = None) -> str:
    """The language to write in: the flag, the environment, the assignment's, or English."""
    for value, origin in ((flag, "--lang"), (os.environ.get(LANG_ENV), f"${LANG_ENV}"),
                          (spec_language, "the assignment's language")):
        if value:
            if value not in languages():
                raise NngradeError(f"{origin} is {value!r}: nngrade has no messages in that "
                                   "language",
                                   hint="Use one of: " + ", ".join(languages()))
            return value
    return SOURCE_LANGUAGE
