"""Where nngrade keeps downloaded and derived data for this user."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
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


def build_once(final: Path, marker: str, build: Callable[[Path], None]) -> Path:
    """``final``, built by ``build(folder)`` unless it already holds ``marker`` (a file
    ``build`` writes last).

    The build goes into a temporary sibling that is renamed into place: the rename is
    atomic, so a reader never sees a half-built folder, and concurrent builders simply
    race to it. A folder without the marker is an interrupted build's debris.
    """
    if (final / marker).is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        build(tmp)
        os.chmod(tmp, 0o755)
        if final.exists() and not (final / marker).is_file():
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / marker).is_file():  # lost the race to a complete folder?
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def dataset_cache_dir(name: str) -> Path:
    """Folder holding downloaded files of one dataset (gzipped, as served)."""
    return cache_root() / "datasets" / name
