"""Read an MP4's box structure directly: the order of top-level boxes and the sample codec.

Tests use it to check what a file really is (its codec tag, where its index sits) without
trusting the file name or any decoder's guess.
"""

from __future__ import annotations

import struct
from pathlib import Path

CONTAINERS = (b"moov", b"trak", b"mdia", b"minf", b"stbl")


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, box end) of each box in data[start:end]."""
    found = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:  # 64-bit size follows the type
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
            header = 16
        elif size == 0:  # runs to the end of the file
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError(f"box {kind!r} at byte {pos} has a bad size {size}")
        found.append((kind, pos + header, pos + size))
        pos += size
    return found


def top_level_boxes(path: Path) -> list[str]:
    """The four-letter types of the file's top-level boxes, in file order."""
    data = path.read_bytes()
    return [kind.decode("latin-1") for kind, _, _ in _boxes(data, 0, len(data))]


def video_codec_tags(path: Path) -> list[str]:
    """The sample-entry four-letter codes (e.g. 'avc1', 'mp4v') of every track in the file."""
    data = path.read_bytes()
    tags: list[str] = []

    def walk(start: int, end: int) -> None:
        for kind, body, stop in _boxes(data, start, end):
            if kind in CONTAINERS:
                walk(body, stop)
            elif kind == b"stsd":  # version/flags (4), entry count (4), then sample entries
                for entry, _, _ in _boxes(data, body + 8, stop):
                    tags.append(entry.decode("latin-1"))

    walk(0, len(data))
    return tags
