"""TFRecord files read without TensorFlow: plain or GZIP-compressed, one record at a time.

Framing of each record (little-endian):
    uint64 length | uint32 masked_crc32c(length) | bytes[length] | uint32 masked_crc32c(data)
The length checksum is always verified (it catches wrong files and wrong compression at
once); the data checksum only on request, since pure-Python CRC32C costs ~1 s per MB.
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from collections.abc import Generator
from pathlib import Path

from training.data.errors import DataError

_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected
_MASK_DELTA = 0xA282EAD8


def _table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def _open(path: Path) -> io.BufferedIOBase:
    try:
        with open(path, "rb") as probe:
            magic = probe.read(2)
        return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"TFRecord file {path} does not exist") from None
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from None


def iter_records(path: str | Path, verify_data: bool = False) -> Generator[bytes, None, None]:
    """Yields the payload of every record; GZIP compression is detected from the file."""
    path = Path(path)
    number = 0
    with _open(path) as stream:
        while True:
            try:
                header = stream.read(12)
                if not header:
                    return
                if len(header) < 12:
                    raise DataError(f"{path} is truncated inside the header of record {number}")
                length, length_crc = struct.unpack("<QI", header)
                if masked_crc32c(header[:8]) != length_crc:
                    raise DataError(
                        f"{path} is not a TFRecord file, or is corrupt at record {number} "
                        "(bad length checksum)"
                    )
                data = stream.read(length)
                footer = stream.read(4)
            except (OSError, EOFError, zlib.error) as err:
                raise DataError(
                    f"{path} cannot be decompressed at record {number}: {err}"
                ) from None
            if len(data) < length or len(footer) < 4:
                raise DataError(f"{path} is truncated inside record {number}")
            if verify_data and masked_crc32c(data) != struct.unpack("<I", footer)[0]:
                raise DataError(f"{path} record {number} is corrupt (bad data checksum)")
            yield data
            number += 1


def frame_record(data: bytes) -> bytes:
    """One record in TFRecord framing (for writing small files, e.g. test fixtures)."""
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )
