"""Find each student's notebook in a class's submissions: a folder or an LMS archive.

Accepted layouts (``SUBMISSIONS`` is a folder, or a .zip/.tar.gz unpacked safely first):

- ``ivanov.ipynb`` — one notebook per student; the student id is the file's stem;
- ``ivanov/…/hw.ipynb`` — one folder per student holding one notebook (or one archive
  holding one), at any depth; the student id is the folder's name;
- Moodle's "Download all submissions": folders ``Full Name_123456_assignsubmission_file_``
  (or, without "in folders", files ``Full Name_123456_assignsubmission_file_hw.ipynb``);
  the student id is ``Full Name_123456``, and the participant id goes to the Moodle export.

A problem with one student (no notebook, several, an empty or oversized file, a broken,
password-protected or unreadable archive, a file that cannot be read, a duplicate id) is
recorded for that student; it never stops the batch.

Problems are written in the batch's language (``collect(..., language="ru")``): they go
to the gradebook and the class's summary page as they are.

Student ids and problems are printable Unicode (:func:`runner.names.printable`), so any
gradebook stores them: a name's undecodable bytes read ``\\xNN``. A notebook whose own name
(or path) is not printable is handed on as a copy with a printable name in the scratch
folder, so every later step can write its name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from runner.archive import (
    ARCHIVE_SUFFIXES,
    IGNORED_PARTS,
    MAX_DEPTH,
    is_archive,
    notebook_from,
    unpack,
)
from runner.errors import NngradeError, NotebookError
from runner.i18n.catalogue import SOURCE_LANGUAGE
from runner.i18n.message import Message, msg
from runner.i18n.render import Translator
from runner.names import clip, fit_component, printable
from runner.notebook import MAX_NOTEBOOK_BYTES

MOODLE_NAME = re.compile(
    r"^(?P<name>.+?)_(?P<participant>\d+)_assign(?:submission|feedback)_(?:file|onlinetext)_"
    r"(?P<rest>.*)$")
HIDDEN = (".", "__MACOSX")
_HASH_SUFFIX = re.compile(r"-[0-9a-f]{8}$")


@dataclass(frozen=True)
class Entry:
    """One student's submission, or why there is none to grade."""

    student: str
    notebook: Path | None
    sha256: str | None = None
    problem: str | None = None
    participant: str | None = None  # Moodle's participant id, when the layout gives one
    full_name: str | None = None


def collect(source: Path, workdir: Path, *, language: str = SOURCE_LANGUAGE) -> list[Entry]:
    """Every student found under ``source``, sorted by id; archives unpack into ``workdir``.

    Each student's problem is written in ``language``."""
    shown = printable(str(source))
    if not source.exists():
        raise NngradeError(msg("batch.intake.no_source", path=shown),
                           hint=msg("batch.intake.source.hint"))
    root = source
    if source.is_file():
        if not is_archive(source):
            raise NngradeError(msg("batch.intake.not_folder_or_archive", path=shown),
                               hint=msg("batch.intake.source.hint"))
        root = workdir / "unpacked"
        unpack(source, root)
    try:
        if source.is_file():
            root = _single_top_folder(root)
        paths = sorted(root.iterdir())
    except OSError as error:
        raise NngradeError(msg("batch.intake.source_unreadable", path=shown,
                               reason=error.strerror or type(error).__name__),
                           hint=msg("batch.intake.source_unreadable.hint")) from None
    t = Translator(language)
    entries = [_entry(path, workdir, t) for path in paths if not path.name.startswith(HIDDEN)]
    return _one_per_student(entries, t)


def _single_top_folder(root: Path) -> Path:
    """Archives often wrap everything in one folder; look inside it."""
    children = [p for p in root.iterdir() if not p.name.startswith(HIDDEN)]
    if len(children) == 1 and children[0].is_dir() and not MOODLE_NAME.match(children[0].name):
        return children[0]
    return root


def _identity(name: str) -> tuple[str, str | None, str | None]:
    """Student id, Moodle participant id and full name, from a printable file name."""
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


def _entry(path: Path, workdir: Path, t: Translator) -> Entry:
    """One student's entry; whatever their files do ends as their problem, never raises."""
    shown = printable(path.name)
    student, participant, full_name = _identity(shown)
    # Per file, not only per student: Moodle gives one student several loose files.
    scratch = workdir / "inner" / safe_name(student) / safe_name(shown)

    def problem(text: str | Message) -> Entry:
        text = t(text) if isinstance(text, Message) else text
        return Entry(student, None, problem=printable(text), participant=participant,
                     full_name=full_name)

    try:
        notebook = _find_notebook(path, scratch)
        size = notebook.stat().st_size
        if size == 0:
            return problem(msg("batch.intake.empty", name=notebook.name))
        if size > MAX_NOTEBOOK_BYTES:
            return problem(_too_big(notebook, size))
        notebook, digest = _usable_copy(notebook, scratch)
    except NngradeError as error:
        text, hint = error.in_language(t.language)
        return problem(text + (f". {hint}" if hint else ""))
    except Exception as error:  # one student's files must never stop the class
        return problem(msg("batch.intake.unreadable", name=shown, reason=_reason(error)))
    return Entry(student, notebook, digest, participant=participant, full_name=full_name)


def _too_big(notebook: Path, size: int) -> Message:
    return msg("batch.intake.too_big", name=notebook.name, size=-(-size // 2**20),
               limit=MAX_NOTEBOOK_BYTES // 2**20)


def _reason(error: BaseException) -> str | Message:
    if isinstance(error, OSError) and error.strerror:
        where = f": {Path(error.filename).name}" if isinstance(error.filename, str) else ""
        return error.strerror + where
    if isinstance(error, RecursionError):
        return msg("batch.intake.nested_too_deeply")
    return f"{type(error).__name__}: {error}"


def _usable_copy(notebook: Path, scratch: Path) -> tuple[Path, str]:
    """The notebook to hand on, and its SHA-256, read in chunks within the size limit.

    Later steps write the notebook's name into reports and the gradebook, so a notebook
    whose name holds undecodable bytes or control characters (or whose path cannot be
    encoded) is handed on as a copy named :func:`printable`, under ``scratch/renamed/``.
    """
    usable = notebook.name.isprintable() and _storable(str(notebook))
    target = notebook if usable else scratch / "renamed" / fit_component(printable(notebook.name))
    digest = hashlib.sha256()
    size = 0
    with notebook.open("rb") as source, contextlib.ExitStack() as stack:
        copy = None
        if not usable:
            target.parent.mkdir(parents=True, exist_ok=True)
            copy = stack.enter_context(target.open("wb"))
        while chunk := source.read(1 << 20):
            size += len(chunk)
            if size > MAX_NOTEBOOK_BYTES:  # it grew since stat(), or stat() lied
                raise NotebookError(_too_big(notebook, size))
            digest.update(chunk)
            if copy is not None:
                copy.write(chunk)
    return target, digest.hexdigest()


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _find_notebook(path: Path, scratch: Path) -> Path:
    if path.is_file():
        if path.name.lower().endswith(".ipynb"):
            return path
        if is_archive(path):
            return notebook_from(path, scratch)[0]
        raise NotebookError(msg("batch.intake.not_notebook", name=path.name))
    if not path.is_dir():
        raise NotebookError(msg("batch.intake.not_file_or_folder", name=path.name))
    files = [p for p in _files(path) if not set(p.relative_to(path).parts) & set(IGNORED_PARTS)]
    notebooks = [p for p in files if p.name.endswith(".ipynb")]
    archives = [p for p in files if is_archive(p)]
    if len(notebooks) == 1:
        return notebooks[0]
    if not notebooks and len(archives) == 1:
        return notebook_from(archives[0], scratch)[0]
    found = ", ".join(p.name for p in notebooks[:5]) or msg("batch.intake.found_none")
    raise NotebookError(msg("batch.intake.notebooks_found", folder=path.name,
                            count=len(notebooks), found=found))


def _files(folder: Path) -> list[Path]:
    """Every file under ``folder``, sorted; links to folders are not followed.

    A walk of its own rather than ``rglob``: that one recurses once per level (a deep
    enough tree is a RecursionError) and skips folders it may not read without a word.
    """
    found: list[Path] = []
    pending = [(folder, 0)]
    while pending:
        current, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise NotebookError(msg("batch.intake.too_deep", folder=folder.name,
                                    depth=MAX_DEPTH))
        with os.scandir(current) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((Path(entry.path), depth + 1))
                elif entry.is_file():
                    found.append(Path(entry.path))
    return sorted(found)


def _one_per_student(entries: list[Entry], t: Translator) -> list[Entry]:
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
                            problem=t("batch.intake.duplicates", n=len(group))))
    return result


def safe_name(student: str) -> str:
    """A student id as a folder name: letters (any script), digits, '.', '-' and '_'.

    One folder per student, never shared: when folding changes the id (``a b`` and ``a_b``
    both fold to ``a_b``) or cuts it, a short hash of the exact id is appended; so is one
    to an id that already ends like such a hash, so no id can pose as another's folder.
    """
    folded = clip(re.sub(r"[^\w.-]+", "_", student), 150)
    if not folded.strip("."):  # "", "." and ".." are not folders of their own
        folded = "student"
    if folded == student and not _HASH_SUFFIX.search(student):
        return folded
    return f"{folded}-{hashlib.sha256(student.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
