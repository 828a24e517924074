"""Fuzzing what students and sandboxes hand to the host: nothing may crash it.

Four targets, each fed inputs that hypothesis generates and shrinks:

- notebook bytes (valid notebooks with odd content, broken JSON, deep nesting, junk);
- archives (zip, tar, tar.gz; nested, encrypted, truncated, corrupted, odd names);
- class folders whose student names are arbitrary bytes;
- the files a sandbox writes (``run.json``, ``measurements.json``, ``progress.jsonl``,
  ``.npy``).

A reader may refuse an input only with nngrade's own error (a message for the user);
intake never raises for one student, and sandbox output never raises at all: it becomes
a note. The budget per target is ``NNGRADE_FUZZ_EXAMPLES`` (default 150, about a minute
for all targets on two cores); the README records a longer run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.archive import notebook_from
from runner.batch.intake import collect, safe_name
from runner.errors import NngradeError
from runner.grading import _ProgressFollower
from runner.ingest import read_measurements, read_run
from runner.measurements import load_array
from runner.notebook import read_submission
from tests.notebooks import AUTOGRAD_GOOD, write_notebook

EXAMPLES = int(os.environ.get("NNGRADE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

pytestmark = pytest.mark.fuzz


def _fresh(tmp_path: Path) -> Path:
    """A new empty folder per example (pytest's tmp_path is shared by all of them)."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


_GOOD = None


def _good_notebook() -> bytes:
    global _GOOD
    if _GOOD is None:
        with tempfile.TemporaryDirectory() as tmp:
            _GOOD = write_notebook(Path(tmp) / "good.ipynb", *AUTOGRAD_GOOD).read_bytes()
    return _GOOD


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30)


@st.composite
def notebook_bytes(draw) -> bytes:
    """Mostly notebook-shaped JSON with something wrong; some plain junk."""
    kind = draw(st.sampled_from(["mutated", "nested", "junk", "truncated", "shape"]))
    good = _good_notebook()
    if kind == "junk":
        return draw(st.binary(max_size=2000))
    if kind == "truncated":
        return good[:draw(st.integers(0, len(good)))]
    if kind == "nested":
        depth = draw(st.sampled_from([10, 1000, 100_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        inner = opener * depth + "1" + closer * depth
        where = draw(st.sampled_from(["top", "metadata", "source", "outputs"]))
        if where == "top":
            return inner.encode()
        notebook = json.loads(good)
        target = {"metadata": notebook["cells"][1].setdefault("metadata", {}),
                  "source": notebook["cells"][1], "outputs": notebook["cells"][1]}[where]
        key = {"metadata": "x", "source": "source", "outputs": "outputs"}[where]
        target[key] = "@@"
        return json.dumps(notebook).replace('"@@"', inner).encode()
    notebook = json.loads(good)
    if kind == "shape":
        notebook[draw(st.sampled_from(["cells", "metadata", "nbformat", "nbformat_minor"]))] = (
            draw(json_values))
    else:
        cell = draw(st.sampled_from(notebook["cells"]))
        cell[draw(st.sampled_from(["source", "cell_type", "outputs", "metadata",
                                   "execution_count", "id"]))] = draw(json_values)
    return json.dumps(notebook).encode()


@FUZZ
@given(data=notebook_bytes())
def test_any_notebook_bytes_are_read_or_refused_with_a_message(tmp_path, data):
    path = _fresh(tmp_path) / "hw.ipynb"
    path.write_bytes(data)
    try:
        submission = read_submission(path)
    except NngradeError as error:
        assert error.message and "\n" not in error.message.strip()
        return
    assert submission.notebook.cells is not None


member_names = st.one_of(
    st.sampled_from(["hw.ipynb", "a/b/hw.ipynb", "../up.ipynb", "/abs.ipynb", "C:\\x.ipynb",
                     "Домашка.ipynb", "я" * 140 + ".ipynb", "a/" * 60 + "deep.ipynb",
                     "__MACOSX/._hw.ipynb", "dir/", "inner.zip", "inner.tar.gz"]),
    st.text(st.characters(codec="utf-8", exclude_characters="\0"), min_size=1, max_size=40))


@st.composite
def archives(draw) -> tuple[str, bytes]:
    """(suffix, bytes) of a zip or tar, perhaps nested, encrypted, cut short or damaged."""
    suffix = draw(st.sampled_from([".zip", ".tar", ".tar.gz"]))
    members = draw(st.lists(st.tuples(member_names, st.sampled_from(
        [b"", b"{}", b"junk", b"notebook", b"nested"])), min_size=0, max_size=5))
    contents = []
    for name, kind in members:
        if kind == b"notebook":
            kind = _good_notebook()
        elif kind == b"nested":
            kind = _archive(".zip", [("hw.ipynb", _good_notebook())])
        contents.append((name, kind))
    data = _archive(suffix, contents)
    damage = draw(st.sampled_from(["none", "truncate", "flip", "encrypt", "method"]))
    if damage == "truncate" and data:
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif damage == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    elif damage in ("encrypt", "method") and suffix == ".zip":
        data = _patch_zip_headers(data, damage)
    return suffix, data


def _archive(suffix: str, members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    if suffix == ".zip":
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle, \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # duplicate names are wanted here
            for name, data in members:
                bundle.writestr(name, data)
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz" if suffix == ".tar.gz" else "w") as tar:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _patch_zip_headers(data: bytes, damage: str) -> bytes:
    """Mark every member encrypted (flag bit 0) or deflate64 (method 9), in both headers."""
    out = bytearray(data)
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := out.find(signature, start)) >= 0:
            if damage == "encrypt":
                out[at + flag_at] |= 0x01
            else:
                out[at + flag_at + 2:at + flag_at + 4] = (9).to_bytes(2, "little")
            start = at + 4
    return bytes(out)


@FUZZ
@given(archive=archives())
def test_any_archive_gives_its_notebook_or_a_message(tmp_path, archive):
    suffix, data = archive
    folder = _fresh(tmp_path)
    path = folder / f"hw{suffix}"
    path.write_bytes(data)
    try:
        notebook, refused = notebook_from(path, folder / "unpacked")
    except NngradeError as error:
        assert error.message
        return
    assert notebook.is_file() and notebook.resolve().is_relative_to(folder.resolve())
    assert all(isinstance(line, str) for line in refused)


@FUZZ
@given(archive=archives(),
       names=st.lists(st.binary(min_size=1, max_size=120).filter(
           lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b"..")),
           min_size=1, max_size=4, unique=True))
def test_any_class_folder_gives_one_storable_row_per_student(tmp_path, archive, names):
    suffix, data = archive
    folder = _fresh(tmp_path)
    root = folder / "class"
    root.mkdir()
    raw_root = os.fsencode(root)
    for number, name in enumerate(names):
        path = os.path.join(raw_root, name)
        if number % 3 == 0:
            os.mkdir(path)
            with open(os.path.join(path, b"hw" + suffix.encode()), "wb") as handle:
                handle.write(data)
        else:
            with open(path + (b".ipynb" if number % 3 == 1 else suffix.encode()), "wb") as handle:
                handle.write(_good_notebook() if number % 3 == 1 else data)
    entries = collect(root, folder / "work")
    ids = [entry.student for entry in entries]
    assert len(ids) == len(set(ids))
    assert len({safe_name(i) for i in ids}) == len(ids)
    for entry in entries:
        entry.student.encode("utf-8")  # storable in any gradebook
        assert entry.student.isprintable()
        assert (entry.notebook is None) == (entry.problem is not None)


@st.composite
def sandbox_files(draw) -> dict[str, bytes]:
    """What a hostile notebook could leave in out/: JSON-ish, nested, huge, binary."""
    def blob() -> bytes:
        kind = draw(st.sampled_from(["json", "nested", "junk", "long-line"]))
        if kind == "json":
            return json.dumps(draw(json_values)).encode()
        if kind == "nested":
            return b"[" * 100_000 + b"]" * 100_000
        if kind == "long-line":
            return b"x" * (200 * 1024)
        return draw(st.binary(max_size=500))

    files = {"run.json": blob(), "measurements.json": blob(),
             "progress.jsonl": b"\n".join(blob() for _ in range(draw(st.integers(0, 3))))}
    array = draw(st.sampled_from(["good", "object", "truncated", "huge-shape", "junk"]))
    files["pred.npy"] = _npy(array)
    if draw(st.booleans()):  # a measurements file that points at the .npy
        files["measurements.json"] = json.dumps({"models": [{
            "index": 0, "framework": "torch", "class_name": "Net", "params": 1, "layers": [],
            "predictions": draw(st.sampled_from(["pred.npy", "../pred.npy", "/etc/passwd"]))}]
        }).encode()
    return files


def _npy(kind: str) -> bytes:
    buffer = io.BytesIO()
    if kind == "object":
        np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif kind == "huge-shape":
        header = "{'descr': '<i8', 'fortran_order': False, 'shape': (10000000000,), }"
        buffer.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little")
                     + header.encode())
    elif kind == "junk":
        buffer.write(b"\x93NUMPY\x01\x00junk")
    else:
        np.save(buffer, np.arange(10, dtype=np.int64))
    data = buffer.getvalue()
    return data[: len(data) // 2] if kind == "truncated" else data


@FUZZ
@given(files=sandbox_files())
def test_any_sandbox_output_becomes_data_or_a_note(tmp_path, files):
    out = _fresh(tmp_path)
    for name, data in files.items():
        (out / name).write_bytes(data)
    notes: list[str] = []
    read_run(out, notes)
    measurements = read_measurements(out, notes)
    if measurements is not None:
        for model in measurements.models:
            if model.predictions:
                with contextlib.suppress(OSError, ValueError):  # refused: as scoring does
                    load_array(out, model.predictions, max_items=100)
    seen: list[dict] = []
    follower = _ProgressFollower(out / "progress.jsonl", seen.append)
    follower.poll()
    with (out / "progress.jsonl").open("ab") as handle:  # progress goes on after any junk
        handle.write(b'\n{"event": "done"}\n')
    for _ in range(8):
        follower.poll()
    assert all(isinstance(event, dict) for event in seen)
    assert {"event": "done"} in seen


_LINE = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["## Выводы", "**Выводы:** ", "# Выводы: ", "Выводы", "### Анализ",
                     "Опишите, какой результата вы получили? Что помогло вам улучшить ее "
                     "точность?", "```", "**", "#", "", "  # ", "__Выводы__"]))


@st.composite
def written_notebooks(draw):
    """Notebooks of markdown, code and raw cells whose lines mix places for an answer,
    markup fragments and arbitrary text; some cells tagged."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    makers = [new_markdown_cell, new_code_cell, new_raw_cell]
    cells = []
    for _ in range(draw(st.integers(0, 12))):
        source = "\n".join(draw(st.lists(_LINE, max_size=6)))
        cell = makers[draw(st.integers(0, 2))](source)
        if draw(st.booleans()) and draw(st.booleans()):
            cell.metadata["tags"] = draw(st.lists(st.sampled_from(["result", "x"]), max_size=2,
                                                  unique=True))
        cells.append(cell)
    return new_notebook(cells=cells)


@FUZZ
@given(notebook=written_notebooks())
def test_any_notebook_gives_each_written_answer_or_says_none_was_found(notebook):
    from runner import assignments
    from runner.answers import MAX_CHARS, find_answers

    rubric = assignments.load("lstm_airline_passengers").spec.rubric
    for answer in find_answers(notebook, rubric):
        assert answer.item == "result"
        assert (answer.found_by is None) == (not answer.cells)
        assert all(0 <= i < len(notebook.cells) for i in (*answer.cells, *answer.context))
        assert all(notebook.cells[i].cell_type == "code" for i in answer.context)
        assert len(answer.text) <= MAX_CHARS + 4 and len(answer.sha256) == 64
