"""Names from untrusted places (students' folders, archives) made safe to show and store.

On Linux a file name is bytes. Python hands undecodable bytes on as lone surrogates
(``"\\udcff"``), which SQLite, PostgreSQL and JSON writers refuse; control characters in a
name can rewrite an instructor's terminal; a name may be longer than the file system takes.
Every name that becomes a student id, a message or an unpacked file goes through here.
"""

from __future__ import annotations

import hashlib

NAME_MAX = 255
"""Bytes in one path component on Linux file systems (ext4, xfs, tmpfs, overlayfs)."""


def printable(text: str) -> str:
    """``text`` with every undecodable byte and every non-printable character escaped.

    An undecodable byte 0xNN becomes ``\\xNN``, so names that differ in such bytes stay
    distinct and a reader sees where they were; control and format characters (newline,
    escape, right-to-left override) and non-ASCII spaces become ``\\xNN`` / ``\\uNNNN``.
    A literal backslash is kept as it is, so a name that already spells ``\\xff`` reads the
    same as one holding that byte; intake then reports both under one id.
    """
    if text.isprintable():
        return text
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for the byte code - 0xDC00
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable():
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def clip(text: str, max_bytes: int, *, from_end: bool = False) -> str:
    """The longest start (or end) of ``text`` whose UTF-8 form fits ``max_bytes``."""
    kept: list[str] = []
    size = 0
    for char in reversed(text) if from_end else text:
        size += utf8_size(char)
        if size > max_bytes:
            break
        kept.append(char)
    return "".join(reversed(kept) if from_end else kept)


def fit_component(name: str, max_bytes: int = NAME_MAX) -> str:
    """``name`` shortened to one path component the file system accepts.

    A longer name keeps its start and its end (the extension; Moodle's
    ``_123456_assignsubmission_file_``) around a hash of the whole name, so two long names
    that share both ends still get different files.
    """
    if utf8_size(name) <= max_bytes:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    tail = clip(name, 80, from_end=True)
    head = clip(name, max_bytes - utf8_size(tail) - len(digest) - 2)
    return f"{head}~{digest}~{tail}"
