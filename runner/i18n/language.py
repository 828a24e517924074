"""Which language a person reads: ``--lang``, then ``$NNGRADE_LANG``, then the spec."""

from __future__ import annotations

import os

from runner.errors import NngradeError
from runner.i18n.catalogue import SOURCE_LANGUAGE, languages
from runner.i18n.message import msg

LANG_ENV = "NNGRADE_LANG"


def choose_language(flag: str | None = None, spec_language: str | None = None) -> str:
    """The language to write in: the flag, the environment, the assignment's, or English."""
    for value, origin in ((flag, "--lang"), (os.environ.get(LANG_ENV), f"${LANG_ENV}"),
                          (spec_language, msg("error.language.of_assignment"))):
        if value:
            if value not in languages():
                raise NngradeError(msg("error.language.unknown", origin=origin, value=value),
                                   hint=msg("error.language.unknown.hint",
                                            languages=sorted(set(languages()))))
            return value
    return SOURCE_LANGUAGE
