"""CIFAR's "python version" batches: pickled dicts written by Python 2, in a tar.gz.

A batch holds ``data`` (uint8, one row of ``C*H*W`` values per image, channel
planes one after another), a label list and names; ``batches.meta`` holds the
class names. Readers on the host never run pickled code: the unpickler knows
exactly the numpy constructors a batch needs and refuses anything else, and
every shape is checked, so a crafted file is an error, not an execution.

The writer emits the opcodes Python 2 wrote (``str`` as BINSTRING), which is
what lets both keras (``encoding="bytes"``) and torchvision
(``encoding="latin1"``) read the files this module writes, as they read the
official ones.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from runner.datasets.errors import MalformedDataFile
from runner.i18n.message import msg

MAX_MEMBER_BYTES = 256 * 1024 * 1024


def _allowed_globals() -> dict[tuple[str, str], object]:
    from numpy._core import multiarray

    return {
        ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }


class _BatchUnpickler(pickle.Unpickler):
    """Builds only dicts, lists, strings, numbers and plain numpy arrays."""

    def find_class(self, module: str, name: str) -> object:
        allowed = _allowed_globals().get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return allowed


def load_pickle(data: bytes, source: Path | str) -> dict:
    """A batch or meta dict with ``str`` keys; MalformedDataFile for anything else."""
    try:
        loaded = _BatchUnpickler(io.BytesIO(data), encoding="latin1").load()
    except Exception as error:  # any failure to parse is a malformed file
        raise MalformedDataFile(source, msg("error.data_file.not_batch", error=str(error))
                                ) from None
    if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
        raise MalformedDataFile(source, msg("error.data_file.batch_not_dict"))
    return loaded


def read_batch(data: bytes, source: Path | str, *, shape: tuple[int, int, int],
               label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, H, W, C)`` uint8 and labels ``(N,)`` uint8 of one batch file."""
    batch = load_pickle(data, source)
    height, width, channels = shape
    images, labels = batch.get("data"), batch.get(label_key)
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2 \
            or images.shape[1] != height * width * channels:
        raise MalformedDataFile(source, msg("error.data_file.batch_data", values=msg(
            "unit.value", n=height * width * channels)))
    if not isinstance(labels, list) or len(labels) != len(images) \
            or not all(isinstance(v, int) and 0 <= v < 256 for v in labels):
        raise MalformedDataFile(source, msg("error.data_file.batch_labels", key=label_key))
    planes = images.reshape(len(images), channels, height, width)
    return np.ascontiguousarray(planes.transpose(0, 2, 3, 1)), np.asarray(labels, np.uint8)


# -- writing, in Python 2's pickle opcodes (protocol 2) -------------------------------------

def _text(value: str | bytes) -> bytes:
    raw = value.encode("latin1") if isinstance(value, str) else value
    if len(raw) < 256:
        return b"U" + bytes([len(raw)]) + raw  # SHORT_BINSTRING
    return b"T" + struct.pack("<I", len(raw)) + raw  # BINSTRING


def _int(value: int) -> bytes:
    if 0 <= value < 256:
        return b"K" + bytes([value])
    if 0 <= value < 65536:
        return b"M" + struct.pack("<H", value)
    return b"J" + struct.pack("<i", value)


def _list(items: Iterable[bytes]) -> bytes:
    body = b"".join(items)
    return b"]" + (b"(" + body + b"e" if body else b"")


def _uint8_array(array: np.ndarray) -> bytes:
    rows, columns = array.shape
    dtype = (b"cnumpy\ndtype\n" + _text("u1") + _int(0) + _int(1) + b"\x87R"
             + b"(" + _int(3) + _text("|") + b"NNN" + _int(-1) + _int(-1) + _int(0) + b"tb")
    return (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n"
            + _int(0) + b"\x85" + _text("b") + b"\x87R"
            + b"(" + _int(1) + _int(rows) + _int(columns) + b"\x86" + dtype + b"\x89"
            + _text(np.ascontiguousarray(array, np.uint8).tobytes()) + b"tb")


def _dict(items: dict[str, bytes]) -> bytes:
    body = b"".join(_text(key) + value for key, value in items.items())
    return b"\x80\x02}(" + body + b"u."


def encode_batch(images: np.ndarray, labels: np.ndarray, *, title: str, label_key: str,
                 names: list[str]) -> bytes:
    """A batch file for ``images`` ``(N, H, W, C)`` uint8, byte for byte as Python 2 wrote."""
    rows = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    return _dict({"batch_label": _text(title),
                  label_key: _list(_int(int(v)) for v in labels),
                  "data": _uint8_array(rows),
                  "filenames": _list(_text(n) for n in names)})


def encode_meta(class_names: list[str], *, key: str, per_batch: int, values: int) -> bytes:
    return _dict({"num_cases_per_batch": _int(per_batch),
                  key: _list(_text(n) for n in class_names),
                  "num_vis": _int(values)})


# -- the archive ----------------------------------------------------------------------------

def read_members(archive: Path, folder: str, names: Iterable[str]) -> dict[str, bytes]:
    """The bytes of ``folder/<name>`` for each name, read from a tar archive (any compression).

    Only regular files of those exact names are read, each within a size limit; links,
    devices and other paths in the archive are ignored, and nothing is extracted.
    """
    wanted = {f"{folder}/{name}": name for name in names}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                name = wanted.get(member.name.removeprefix("./"))
                if name is None or not member.isreg():
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    raise MalformedDataFile(archive, msg("error.data_file.member_too_large",
                                                         member=member.name,
                                                         limit=msg("error.unit.byte",
                                                                   n=MAX_MEMBER_BYTES)))
                handle = tar.extractfile(member)
                assert handle is not None  # a regular file
                found[name] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as error:
        raise MalformedDataFile(archive, msg("error.data_file.archive_unreadable",
                                             error=str(error))) from None
    missing = sorted(set(wanted.values()) - set(found))
    if missing:
        raise MalformedDataFile(archive, msg("error.data_file.archive_lacks",
                                             members=[f"{folder}/{name}" for name in missing]))
    return found


def write_archive(members: dict[str, bytes], folder: str, path: Path) -> None:
    """A reproducible tar.gz holding ``folder/<name>`` for each member (stand-ins use it)."""
    with open(path, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.GNU_FORMAT) as tar:
        directory = tarfile.TarInfo(folder)
        directory.type, directory.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(directory)
        for name, data in members.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
