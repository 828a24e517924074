"""Archives the way other tools write them, byte by byte, for the tests of intake.

``zipfile`` writes only what Python reads back (UTF-8 names with the flag set, no
passwords, no deflate64), so these archives are built from the zip format itself:
local headers, central directory, end record.
"""

from __future__ import annotations

import io
import os
import struct
import tarfile
import zlib
from dataclasses import dataclass

PASSWORD = b"secret"
UTF8_FLAG = 0x800
ENCRYPTED_FLAG = 0x1
STORED, DEFLATED, DEFLATE64 = 0, 8, 9


@dataclass
class Member:
    """One zip member: its name as raw bytes, its data, how it is stored."""

    name: bytes
    data: bytes
    method: int = DEFLATED
    flags: int = 0
    payload: bytes | None = None  # the stored bytes, when not the compressed ``data``


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def build_zip(members: list[Member]) -> bytes:
    """A zip archive holding ``members`` exactly as given (names, flags, methods)."""
    body, directory = bytearray(), bytearray()
    for member in members:
        crc = zlib.crc32(member.data)
        payload = member.payload
        if payload is None:
            payload = raw_deflate(member.data) if member.method in (DEFLATED, DEFLATE64) \
                else member.data
        if member.flags & ENCRYPTED_FLAG:
            payload = zipcrypto(PASSWORD, os.urandom(11) + bytes([crc >> 24]) + payload)
        fields = (member.flags, member.method, 0, 0x21, crc, len(payload), len(member.data),
                  len(member.name))
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, *fields, 0, 0, 0,
                                 0, 0, len(body)) + member.name
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, *fields, 0) + member.name + payload
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                      len(directory), len(body), 0)
    return bytes(body + directory + end)


def zipcrypto(password: bytes, plain: bytes) -> bytes:
    """Traditional PKWARE encryption (ZipCrypto), what ``zip -P`` and 7-Zip's default do."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc_step(crc: int, byte: int) -> int:  # zip's CRC-32 update, without zlib's inversion
        return zlib.crc32(bytes([byte]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def update(byte: int) -> None:
        keys[0] = crc_step(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_step(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    out = bytearray()
    for byte in plain:
        temp = (keys[2] | 2) & 0xFFFF
        out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(byte)
    return bytes(out)


def build_tar(members: dict[bytes, bytes], compression: str = "") -> bytes:
    """A tar (``compression``: "" or "gz") whose member names are the given raw bytes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}", format=tarfile.GNU_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(os.fsdecode(name))  # written back as the same bytes
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
