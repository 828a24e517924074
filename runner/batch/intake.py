"""Find each student's notebook in a class's submissions: a folder or an LMS archive.

Accepted layouts (``SUBMISSIONS`` is a folder, or a .zip/.tar.gz unpacked safely first):

- ``ivanov.ipynb`` — one notebook per student; the student id is the file's stem;
- ``ivanov/…/hw.ipynb`` — one folder per student holding one notebook (or one archive
  holding one), at any depth; the student id is the folder's name;
- Moodle's "Download all submissions": folders ``Full Name_123456_assignsubmission_file_``
  (or, without "in folders", files ``Full Name_123456_assignsubmission_file_hw.ipynb``);
  the student id is ``Full Name_123456``, and the participant id goes to the Moodle export.

A problem with one student (no notebook, several, an empty file, a broken archive, a
duplicate id) is recorded for that student; it never stops the batch.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from runner.archive import ARCHIVE_SUFFIXES, IGNORED_PARTS, is_archive, notebook_from, unpack
from runner.errors import NngradeError, NotebookError

MOODLE_NAME = re.compile(
    r"^(?P<name>.+?)_(?P<participant>\d+)_assign(?:submission|feedback)_(?:file|onlinetext)_"
    r"(?P<rest>.*)$")
HIDDEN = (".", "__MACOSX")


@dataclass(frozen=True)
class Entry:
    """One student's submission, or why there is none to grade."""

    student: str
    notebook: Path | None
    sha256: str | None = None
    problem: str | None = None
    participant: str | None = None  # Moodle's participant id, when the layout gives one
    full_name: str | None = None


def collect(source: Path, workdir: Path) -> list[Entry]:
    """Every student found under ``source``, sorted by id; archives unpack into ``workdir``."""
    if not source.exists():
        raise NngradeError(f"{source}: no such file or folder",
                           hint="Pass the folder of submissions or the LMS's archive.")
    root = source
    if source.is_file():
        if not is_archive(source):
            raise NngradeError(f"{source}: neither a folder nor a .zip/.tar.gz archive",
                               hint="Pass the folder of submissions or the LMS's archive.")
        root = workdir / "unpacked"
        unpack(source, root)
        root = _single_top_folder(root)
    entries = [_entry(path, workdir) for path in sorted(root.iterdir())
               if not path.name.startswith(HIDDEN)]
    return _one_per_student(entries)


def _single_top_folder(root: Path) -> Path:
    """Archives often wrap everything in one folder; look inside it."""
    children = [p for p in root.iterdir() if not p.name.startswith(HIDDEN)]
    if len(children) == 1 and children[0].is_dir() and not MOODLE_NAME.match(children[0].name):
        return children[0]
    return root


def _identity(name: str) -> tuple[str, str | None, str | None]:
    match = MOODLE_NAME.match(name)
    if match:
        full_name = match["name"].strip()
        return f"{full_name}_{match['participant']}", match["participant"], full_name
    return _stem(name), None, None


def _stem(name: str) -> str:
    """A file's name without its extension (both of .tar.gz); a folder's name as it is."""
    for suffix in (".ipynb", *ARCHIVE_SUFFIXES):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[:-len(suffix)]
    return Path(name).stem if "." in name.strip(".") else name


def _entry(path: Path, workdir: Path) -> Entry:
    student, participant, full_name = _identity(path.name)
    known = {"participant": participant, "full_name": full_name}
    try:
        notebook = _find_notebook(path, workdir / "inner" / safe_name(student))
    except NngradeError as error:
        return Entry(student, None, problem=error.message, **known)
    if notebook.stat().st_size == 0:
        return Entry(student, None, problem=f"{notebook.name} is an empty file", **known)
    digest = hashlib.sha256(notebook.read_bytes()).hexdigest()
    return Entry(student, notebook, digest, **known)


def _find_notebook(path: Path, scratch: Path) -> Path:
    if path.is_file():
        if path.name.lower().endswith(".ipynb"):
            return path
        if is_archive(path):
            return notebook_from(path, scratch)[0]
        raise NotebookError(f"{path.name} is not a notebook (.ipynb) nor an archive")
    notebooks = [p for p in sorted(path.rglob("*.ipynb"))
                 if p.is_file() and not set(p.relative_to(path).parts) & set(IGNORED_PARTS)]
    archives = [p for p in sorted(path.rglob("*")) if p.is_file() and is_archive(p)]
    if len(notebooks) == 1:
        return notebooks[0]
    if not notebooks and len(archives) == 1:
        return notebook_from(archives[0], scratch)[0]
    found = ", ".join(p.name for p in notebooks[:5]) or "none"
    raise NotebookError(f"expected one notebook in {path.name}/, found {len(notebooks)} "
                        f"({found})")


def _one_per_student(entries: list[Entry]) -> list[Entry]:
    """One entry per student id: Moodle's loose files merge, real duplicates are a problem."""
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.student, []).append(entry)
    result = []
    for student, group in sorted(groups.items()):
        usable = [e for e in group if e.notebook is not None]
        moodle_files = all(e.participant is not None for e in group)
        if len(group) == 1 or (moodle_files and len(usable) == 1):
            result.append(usable[0] if usable else group[0])
            continue
        first = group[0]
        result.append(Entry(student, None, participant=first.participant,
                            full_name=first.full_name,
                            problem=f"{len(group)} submissions under one student id"))
    return result


def safe_name(student: str) -> str:
    """A student id as a folder name: letters (any script), digits, '.', '-' and '_'."""
    return re.sub(r"[^\w.-]+", "_", student)[:120] or "student"
