"""Where nngrade keeps downloaded and derived data for this user."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "NNGRADE_CACHE_DIR"


def cache_root() -> Path:
    """``$NNGRADE_CACHE_DIR``, else ``$XDG_CACHE_HOME/nngrade``, else ``~/.cache/nngrade``.

    Read on every call so tests and the CLI can redirect it through the environment.
    """
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "nngrade"


def dataset_cache_dir(name: str) -> Path:
    """Folder holding downloaded files of one dataset (gzipped, as served)."""
    return cache_root() / "datasets" / name
