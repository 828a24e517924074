"""Checksum verification, remembered so a verified file is hashed only once.

Hashing the decompressed Fashion-MNIST takes ~0.3 s, paid on every grading run
unless remembered. A result is keyed by the file's path, size, mtime, ctime
and inode, kept for this process and in a small JSON stamp in the user cache.
Only successes are remembered; a failure is re-checked next time.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

from runner.datasets._idx import open_data
from runner.datasets.cache import cache_root
from runner.datasets.errors import ChecksumMismatch
from runner.datasets.registry import Archive, FileSpec
from runner.i18n.message import Message

STAMP_FILE = "verified.json"
MAX_STAMP_ENTRIES = 256
_CHUNK = 1 << 20

_verified: dict[str, str] = {}


def content_sha256(path: Path, algorithm: str = "sha256") -> str:
    """Digest of the decompressed content (OSError/EOFError/zlib.error on a broken gzip)."""
    digest = hashlib.new(algorithm)
    with open_data(path) as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of the file's own bytes, compressed or not (an archive's published digest)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _identity(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}"


def _stamp_path() -> Path:
    return cache_root() / STAMP_FILE


def _load_stamp() -> dict[str, str]:
    try:
        entries = json.loads(_stamp_path().read_text()).get("verified", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {k: v for k, v in entries.items() if isinstance(k, str) and isinstance(v, str)}


def _save_stamp(key: str, sha256: str) -> None:
    """Best effort: a read-only or racing cache just means hashing again later."""
    entries = _load_stamp()
    entries.pop(key, None)
    entries[key] = sha256
    kept = dict(list(entries.items())[-MAX_STAMP_ENTRIES:])
    path = _stamp_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{STAMP_FILE}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps({"verified": kept}, indent=0))
        os.replace(tmp, path)
    except OSError:
        pass


def _is_verified(path: Path, expected: str) -> bool:
    """Whether this exact file (unchanged since) was already found to have ``expected``."""
    key = _identity(path)
    if _verified.get(key) == expected:
        return True
    if _load_stamp().get(key) == expected:
        _verified[key] = expected
        return True
    return False


def is_verified(path: Path, file: FileSpec) -> bool:
    """Whether this exact file (unchanged since) was already verified against ``file``."""
    return _is_verified(path, file.digest[1])


def _verify(path: Path, expected: str, compute: Callable[[Path], str],
            hint: str | Message | None) -> None:
    if _is_verified(path, expected):
        return
    key = _identity(path)
    unreadable = None
    try:
        actual = compute(path)
    except (OSError, EOFError, zlib.error) as e:
        actual, unreadable = f"(unreadable: {e})", str(e)
    if actual != expected:
        raise ChecksumMismatch(path, expected, actual, hint=hint, unreadable=unreadable)
    _verified[key] = actual
    _save_stamp(key, actual)


def verify_file(path: Path, file: FileSpec, *, hint: str | Message | None = None) -> None:
    """Raise :class:`ChecksumMismatch` unless ``path`` decompresses to ``file``'s content."""
    algorithm, expected = file.digest
    _verify(path, expected, lambda p: content_sha256(p, algorithm), hint)


def verify_archive(path: Path, archive: Archive, *, hint: str | Message | None = None) -> None:
    """Raise :class:`ChecksumMismatch` unless the archive's own bytes have its sha256."""
    _verify(path, archive.sha256, file_sha256, hint)


def forget_verified() -> None:
    """Drop this process's memory of verified files (tests use it)."""
    _verified.clear()
