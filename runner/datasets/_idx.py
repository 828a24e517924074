"""IDX files (the MNIST family's format), plain or gzipped.

Layout: two zero bytes, a type code, the number of dimensions, then each
dimension as a big-endian uint32, then the data, big-endian, row-major.
Readers are strict (exact length, known type) because a silently misparsed
file would grade every student against garbage.
"""

from __future__ import annotations

import gzip
import io
import os
import threading
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from runner.datasets.errors import MalformedDataFile
from runner.i18n.message import msg

GZIP_MAGIC = b"\x1f\x8b"
MAX_NDIM = 4

_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in _DTYPES.items()}


def is_gzip(path: Path) -> bool:
    """Decide by content, not by name: some mirrors serve ``.gz`` names uncompressed."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def open_data(path: Path) -> BinaryIO:
    """Open for reading, transparently decompressing gzip."""
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def read_bytes(path: Path) -> bytes:
    """Whole decompressed content; a broken gzip stream becomes MalformedDataFile."""
    try:
        with open_data(path) as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise MalformedDataFile(path, msg("error.data_file.decompress", error=str(e))) from e


def parse_idx(data: bytes, source: Path | str) -> np.ndarray:
    """Decode IDX bytes into a native-endian array; ``source`` names the file in errors."""
    if len(data) < 4:
        raise MalformedDataFile(source, msg("error.idx.too_short",
                                            size=msg("error.unit.byte", n=len(data))))
    if data[0] != 0 or data[1] != 0:
        raise MalformedDataFile(source, msg("error.idx.magic", magic=data[:4].hex()))
    code, ndim = data[2], data[3]
    if code not in _DTYPES:
        raise MalformedDataFile(source, msg("error.idx.dtype", code=f"0x{code:02x}"))
    if not 1 <= ndim <= MAX_NDIM:
        raise MalformedDataFile(source, msg("error.idx.ndim", ndim=ndim))
    header = 4 + 4 * ndim
    if len(data) < header:
        raise MalformedDataFile(source, msg("error.idx.header", ndim=ndim,
                                            bytes=msg("error.unit.byte", n=header)))
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = _DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise MalformedDataFile(source, msg(
            "error.idx.size", size=msg("error.unit.byte", n=len(data)), shape=str(shape),
            dtype=dtype.name, expected=msg("error.unit.byte", n=expected)))
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array if dtype.itemsize == 1 else array.astype(dtype.newbyteorder("="))


def read_idx(path: Path) -> np.ndarray:
    """Read a plain or gzipped IDX file (the array is read-only)."""
    return parse_idx(read_bytes(path), path)


def encode_idx(array: np.ndarray) -> bytes:
    """IDX bytes for ``array``; byte-identical to the official files for uint8 data."""
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise TypeError(f"IDX cannot store dtype {array.dtype}")
    if not 1 <= array.ndim <= MAX_NDIM:
        raise ValueError(f"IDX stores 1 to {MAX_NDIM} dimensions, got {array.ndim}")
    header = bytes([0, 0, _CODES[native], array.ndim])
    header += np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=native.newbyteorder(">")).tobytes()


def write_idx(array: np.ndarray, path: Path, *, compress: bool) -> None:
    """Write IDX, gzipped with mtime 0 and no file name so output is reproducible."""
    data = encode_idx(array)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as raw:
        if compress:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as g:
                g.write(data)
        else:
            raw.write(data)
    os.replace(tmp, path)


def gzip_bytes(data: bytes) -> bytes:
    """Reproducible gzip of in-memory bytes (tests and mirrors use it)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as g:
        g.write(data)
    return buf.getvalue()
