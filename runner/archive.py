"""Unpack a submitted archive (.zip, .tar, .tar.gz) safely and find its notebook.

Archives come from students: names may climb out with ``../`` or start at ``/``,
members may be links or devices, and sizes in headers may lie. Only regular files
and folders are written, under the destination, within size and count limits
measured on the bytes actually read.
"""

from __future__ import annotations

import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from runner.errors import NotebookError

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
MAX_UNPACKED_BYTES = 512 * 2**20
MAX_MEMBERS = 2000
IGNORED_PARTS = ("__MACOSX", ".ipynb_checkpoints")


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def unpack(archive: Path, dest: Path) -> list[str]:
    """Extract ``archive`` into ``dest``; returns the members refused, with why."""
    dest.mkdir(parents=True, exist_ok=True)
    budget = _Budget()
    try:
        if archive.name.lower().endswith(".zip"):
            return _unpack_zip(archive, dest, budget)
        return _unpack_tar(archive, dest, budget)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
        raise NotebookError(f"{archive}: not a readable archive ({error})",
                            hint="Send the .ipynb file itself, or a .zip that opens.") from None


def notebook_from(archive: Path, dest: Path) -> tuple[Path, list[str]]:
    """The one notebook inside ``archive``, unpacked under ``dest``, and what was refused."""
    refused = unpack(archive, dest)
    notebooks = sorted(p for p in dest.rglob("*.ipynb")
                       if p.is_file() and not set(p.relative_to(dest).parts) & set(IGNORED_PARTS))
    if len(notebooks) != 1:
        found = ", ".join(str(p.relative_to(dest)) for p in notebooks[:5]) or "none"
        raise NotebookError(f"{archive}: expected one .ipynb notebook inside, found "
                            f"{len(notebooks)} ({found})",
                            hint="Hand in an archive holding exactly one notebook.")
    return notebooks[0], refused


class _Budget:
    def __init__(self) -> None:
        self.bytes = 0
        self.members = 0

    def member(self, name: str) -> None:
        self.members += 1
        if self.members > MAX_MEMBERS:
            raise NotebookError(f"archive has more than {MAX_MEMBERS} members at {name!r}",
                                hint="Hand in the notebook alone.")

    def spend(self, size: int) -> None:
        self.bytes += size
        if self.bytes > MAX_UNPACKED_BYTES:
            raise NotebookError(f"archive unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MiB",
                                hint="Hand in the notebook alone, with outputs cleared.")


def _target(dest: Path, name: str) -> Path | None:
    """Where a member may go, or None when its name escapes ``dest``."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return dest.joinpath(*path.parts)


def _copy(source, target: Path, budget: _Budget) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as handle:
        while chunk := source.read(1 << 20):
            budget.spend(len(chunk))
            handle.write(chunk)


def _unpack_zip(archive: Path, dest: Path, budget: _Budget) -> list[str]:
    refused = []
    with zipfile.ZipFile(archive) as bundle:
        for info in bundle.infolist():
            budget.member(info.filename)
            target = _target(dest, info.filename)
            mode = info.external_attr >> 16
            if target is None:
                refused.append(f"{info.filename}: outside the archive")
            elif stat.S_ISLNK(mode):
                refused.append(f"{info.filename}: a link")
            elif info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                with bundle.open(info) as source:
                    _copy(source, target, budget)
    return refused


def _unpack_tar(archive: Path, dest: Path, budget: _Budget) -> list[str]:
    refused = []
    with tarfile.open(archive, mode="r:*") as bundle:
        for member in bundle:
            budget.member(member.name)
            target = _target(dest, member.name)
            if target is None:
                refused.append(f"{member.name}: outside the archive")
            elif member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif not member.isfile():
                refused.append(f"{member.name}: a link or special file")
            else:
                source = bundle.extractfile(member)
                if source is not None:
                    with source:
                        _copy(source, target, budget)
    return refused
