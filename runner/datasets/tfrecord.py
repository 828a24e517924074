"""TFRecord files and ``tf.train.Example`` records, without TensorFlow on the host.

tensorflow_datasets keeps a prepared dataset as TFRecord shards: each record is framed
as ``length (u64) | masked crc32c of length (u32) | data | masked crc32c of data (u32)``
and holds one serialized ``tf.train.Example``. The host only needs to count and check
the records of an instructor's copy, and to write a stand-in in the same format; a few
lines of framing and protobuf wire format do both, where TensorFlow would be a
dependency of gigabytes.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

_CRC32C_POLY = 0x82F63B78  # Castagnoli, reflected
_MASK_DELTA = 0xA282EAD8


class BadRecordFile(ValueError):
    """A file is not a well-formed TFRecord file; the message says where it breaks."""


@functools.cache
def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _CRC32C_POLY if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``, as TFRecord frames use it."""
    table = _crc_table()
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    """The CRC as TFRecord stores it: rotated right by 15 bits plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(record: bytes) -> bytes:
    """One record framed for a TFRecord file."""
    length = struct.pack("<Q", len(record))
    return (length + struct.pack("<I", masked_crc(length)) + record
            + struct.pack("<I", masked_crc(record)))


def write_records(path: Path, records: Iterable[bytes]) -> int:
    """Write ``records`` as a TFRecord file; the number of bytes written."""
    size = 0
    with open(path, "wb") as out:
        for record in records:
            size += out.write(frame(record))
    return size


def _frames(path: Path) -> Iterator[tuple[int, int]]:
    """(offset of the data, its length) of every record, checking each length's CRC."""
    with open(path, "rb") as file:
        file.seek(0, 2)
        end = file.tell()
        offset = 0
        while offset < end:
            file.seek(offset)
            header = file.read(12)
            if len(header) < 12:
                raise BadRecordFile(f"{path.name}: cut off in the header of the record at "
                                    f"byte {offset}")
            length, stored = struct.unpack("<QI", header)
            if masked_crc(header[:8]) != stored:
                raise BadRecordFile(f"{path.name}: the record at byte {offset} has a damaged "
                                    "length")
            if offset + 16 + length > end:
                raise BadRecordFile(f"{path.name}: the record at byte {offset} is cut off")
            yield offset + 12, length
            offset += 16 + length


def count_records(path: Path) -> int:
    """Records in a TFRecord file, reading only their headers."""
    return sum(1 for _ in _frames(path))


def read_records(path: Path) -> Iterator[bytes]:
    """The data of every record, each checked against its CRC."""
    with open(path, "rb") as file:
        for start, length in _frames(path):
            file.seek(start)
            data = file.read(length)
            (stored,) = struct.unpack("<I", file.read(4))
            if masked_crc(data) != stored:
                raise BadRecordFile(f"{path.name}: the record at byte {start - 12} is damaged")
            yield data


def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1  # negative int64 values take ten bytes, as protobuf writes them
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


Value = bytes | str | int | float | list[bytes] | list[int] | list[float]


def _feature(value: Value) -> bytes:
    values = value if isinstance(value, list) else [value]
    if all(isinstance(v, bytes | str) for v in values):
        items = b"".join(_field(1, v.encode() if isinstance(v, str) else v) for v in values)
        return _field(1, items)  # BytesList
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return _field(3, _field(1, b"".join(_varint(int(v)) for v in values)))  # Int64List
    packed = b"".join(struct.pack("<f", float(v)) for v in values)
    return _field(2, _field(1, packed))  # FloatList


def encode_example(features: dict[str, Value]) -> bytes:
    """A serialized ``tf.train.Example`` with one feature per key, keys in sorted order."""
    entries = b"".join(_field(1, _field(1, key.encode()) + _field(2, _feature(value)))
                       for key, value in sorted(features.items()))
    return _field(1, entries)
