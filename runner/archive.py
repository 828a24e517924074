"""Unpack a submitted archive (.zip, .tar, .tar.gz) safely and find its notebook.

Archives come from students: names may climb out with ``../`` or start at ``/``,
members may be links or devices, and sizes in headers may lie. Only regular files
and folders are written, under the destination, within size and count limits
measured on the bytes actually read.

An archive Python cannot read (password-protected, a compression method such as
deflate64, damaged data) is refused as a whole with a :class:`NotebookError` saying so;
nothing else escapes :func:`unpack`. One member that cannot be written here (its folder
is a file) is left out with a note instead.

Names are made printable (see :mod:`runner.names`) and each path component is shortened
to what the file system takes, so the files handed on have names every later step can
store. Zip names without the UTF-8 flag (bit 11) are decoded as UTF-8 when their bytes
are valid UTF-8 (macOS and some Linux tools write UTF-8 without setting the flag), else
as cp866: Windows' built-in zip and older archivers write the OEM code page, which is
cp866 on Russian Windows, the courses' main source. (The zip standard says cp437; a
Western European cp437 name then reads as Cyrillic, still distinct and printable.)
"""

from __future__ import annotations

import errno
import lzma
import stat
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO

from runner.errors import NotebookError
from runner.i18n.message import Message, msg
from runner.names import fit_component, printable

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
MAX_UNPACKED_BYTES = 512 * 2**20
MAX_MEMBERS = 2000
MAX_DEPTH = 64
"""Folders in a member's name. Homework is never this deep; deeper trees overflow the
recursive walks of pathlib and os."""
IGNORED_PARTS = ("__MACOSX", ".ipynb_checkpoints")

_UTF8_NAMES = 0x800
_ENCRYPTED = 0x1 | 0x40  # traditional (ZipCrypto, WinZip AES) and "strong" encryption
_READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                     zipfile.ZIP_LZMA} | ({93} if hasattr(zipfile, "ZIP_ZSTANDARD") else set())
_METHOD_NAMES = {1: "shrink", 2: "reduce", 3: "reduce", 4: "reduce", 5: "reduce",
                 6: "implode", 9: "deflate64", 10: "PKWARE implode", 18: "IBM TERSE",
                 19: "IBM LZ77", 93: "Zstandard", 95: "xz", 96: "JPEG", 97: "WavPack",
                 98: "PPMd"}
# What the zip, tar, gzip, bz2, lzma and zlib readers raise on damaged or foreign data.
_DAMAGED = (zipfile.BadZipFile, tarfile.TarError, zlib.error, lzma.LZMAError, EOFError,
            OSError, ValueError, struct.error, RuntimeError, NotImplementedError)


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def unpack(archive: Path, dest: Path) -> list[str]:
    """Extract ``archive`` into ``dest``; returns the members refused, with why."""
    dest.mkdir(parents=True, exist_ok=True)
    budget = _Budget(archive)
    try:
        if archive.name.lower().endswith(".zip"):
            return _unpack_zip(archive, dest, budget)
        return _unpack_tar(archive, dest, budget)
    except NotebookError:  # a ValueError too: already says what is wrong
        raise
    except _DAMAGED as error:
        raise NotebookError(msg("error.archive.unreadable", archive=_shown(archive),
                                error=_why(error)),
                            hint=msg("error.archive.unreadable.hint", kind=_kind(archive))
                            ) from None


def notebook_from(archive: Path, dest: Path) -> tuple[Path, list[str]]:
    """The one notebook inside ``archive``, unpacked under ``dest``, and what was refused."""
    refused = unpack(archive, dest)
    notebooks = sorted(p for p in dest.rglob("*.ipynb")
                       if p.is_file() and not set(p.relative_to(dest).parts) & set(IGNORED_PARTS))
    if len(notebooks) != 1:
        found: list[str] | Message = [str(p.relative_to(dest)) for p in notebooks[:5]]
        left_out = [line for line in refused if ".ipynb" in line.lower()]
        if not notebooks:
            found = (msg("error.archive.none_left_out", left_out=left_out[0]) if left_out
                     else msg("error.archive.none"))
        raise NotebookError(msg("error.archive.notebooks", archive=_shown(archive),
                                count=len(notebooks), found=found),
                            hint=msg("error.archive.notebooks.hint"))
    return notebooks[0], refused


class _Budget:
    def __init__(self, archive: Path) -> None:
        self.archive = _shown(archive)
        self.bytes = 0
        self.members = 0

    def member(self, name: str) -> None:
        self.members += 1
        if self.members > MAX_MEMBERS:
            raise NotebookError(msg("error.archive.members", archive=self.archive,
                                    n=MAX_MEMBERS, name=name),
                                hint=msg("error.archive.members.hint"))

    def spend(self, size: int) -> None:
        self.bytes += size
        if self.bytes > MAX_UNPACKED_BYTES:
            raise NotebookError(msg("error.archive.too_large", archive=self.archive,
                                    limit=MAX_UNPACKED_BYTES // 2**20),
                                hint=msg("error.archive.too_large.hint"))


def _shown(path: Path) -> str:
    """The archive's name (not its path: intake unpacks into a temporary folder)."""
    return printable(path.name)


def _kind(archive: Path) -> str:
    return ".zip" if archive.name.lower().endswith(".zip") else ".tar/.tar.gz"


def _why(error: BaseException) -> str:
    """The reader's reason, printable and without brackets (the CLI prints markup)."""
    text = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    first = text.strip().splitlines()[0].rstrip(":") if text.strip() else type(error).__name__
    return printable(first).replace("[", "(").replace("]", ")")


def _target(dest: Path, name: str) -> Path | str:
    """Where a member may go, or why it may not; ``name`` as decoded, before :func:`printable`
    (whose escapes hold backslashes, read here as Windows' folder separator)."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return "outside the archive"
    if len(path.parts) > MAX_DEPTH:
        return f"more than {MAX_DEPTH} folders deep"
    return dest.joinpath(*(fit_component(printable(part)) for part in path.parts))


def _folder(target: Path, name: str, refused: list[str]) -> None:
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        refused.append(_unwritable(name, error))


def _unwritable(name: str, error: OSError) -> str:
    if error.errno in (errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
        return f"{name}: cannot be unpacked here (another member of that name is in the way)"
    return f"{name}: cannot be unpacked here ({_why(error)})"


def _copy(archive: Path, name: str, source: IO[bytes], target: Path, budget: _Budget,
          refused: list[str]) -> None:
    """Copy one member; a write that fails refuses the member, a read that fails the archive."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = open(target, "wb")  # noqa: SIM115 (closed below, after the loop)
    except OSError as error:
        refused.append(_unwritable(name, error))
        return
    with handle:
        while True:
            try:
                chunk = source.read(1 << 20)
            except _DAMAGED as error:
                raise _damaged(archive, name, error) from None
            if not chunk:
                return
            budget.spend(len(chunk))
            try:
                handle.write(chunk)
            except OSError as error:
                refused.append(_unwritable(name, error))
                break
    target.unlink(missing_ok=True)


def _damaged(archive: Path, name: str, error: BaseException) -> NotebookError:
    return NotebookError(msg("error.archive.damaged", archive=_shown(archive), name=name,
                             error=_why(error)),
                         hint=msg("error.archive.damaged.hint"))


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its packer meant it (see the module's docstring)."""
    if info.flag_bits & _UTF8_NAMES:
        return info.filename
    raw = info.filename.encode("cp437")  # zipfile decoded the bytes as cp437: undo it
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp866")


def _check_zip(archive: Path, bundle: zipfile.ZipFile) -> None:
    """Refuse, before writing anything, an archive Python would fail on halfway."""
    for info in bundle.infolist():
        name = printable(_zip_name(info))
        if info.flag_bits & _ENCRYPTED:
            raise NotebookError(msg("error.archive.encrypted", archive=_shown(archive),
                                    name=name),
                                hint=msg("error.archive.encrypted.hint"))
        if info.compress_type not in _READABLE_METHODS:
            method = _METHOD_NAMES.get(info.compress_type) or msg(
                "error.archive.method_number", number=info.compress_type)
            raise NotebookError(msg("error.archive.method", archive=_shown(archive),
                                    method=method, name=name),
                                hint=msg("error.archive.method.hint"))


def _unpack_zip(archive: Path, dest: Path, budget: _Budget) -> list[str]:
    refused: list[str] = []
    with zipfile.ZipFile(archive) as bundle:
        _check_zip(archive, bundle)
        for info in bundle.infolist():
            raw = _zip_name(info)
            name = printable(raw)
            budget.member(name)
            target = _target(dest, raw)
            mode = info.external_attr >> 16
            if isinstance(target, str):
                refused.append(f"{name}: {target}")
            elif stat.S_ISLNK(mode):
                refused.append(f"{name}: a link")
            elif info.is_dir():
                _folder(target, name, refused)
            else:
                try:
                    source = bundle.open(info)
                except _DAMAGED as error:
                    raise _damaged(archive, name, error) from None
                with source:
                    _copy(archive, name, source, target, budget, refused)
    return refused


def _unpack_tar(archive: Path, dest: Path, budget: _Budget) -> list[str]:
    refused: list[str] = []
    with tarfile.open(archive, mode="r:*") as bundle:
        for member in bundle:
            name = printable(member.name)
            budget.member(name)
            target = _target(dest, member.name)
            if isinstance(target, str):
                refused.append(f"{name}: {target}")
            elif member.isdir():
                _folder(target, name, refused)
            elif not member.isfile():
                refused.append(f"{name}: a link or special file")
            else:
                source = bundle.extractfile(member)
                if source is not None:
                    with source:
                        _copy(archive, name, source, target, budget, refused)
    return refused
