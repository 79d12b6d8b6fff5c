"""Shared fixture writers for real on-disk formats the project cannot download."""

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def palette_png_bytes(indices: np.ndarray, palette: np.ndarray) -> bytes:
    """An 8-bit palette PNG (colour type 3), as CLEVRTEX stores its `_flat.png` masks."""
    height, width = indices.shape
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    rows = b"".join(b"\x00" + row.tobytes() for row in indices.astype(np.uint8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"PLTE", palette.astype(np.uint8).tobytes())
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )


# The CLEVRTEX generator's 14-colour map, repeated four times in the PNG palette.
CLEVRTEX_CMAP = np.array(
    [[0, 0, 0], [255, 0, 0], [0, 128, 0], [0, 0, 255], [255, 255, 0], [141, 211, 199],
     [255, 255, 179], [190, 186, 218], [251, 128, 114], [128, 177, 211], [253, 180, 98],
     [179, 222, 105], [252, 205, 229], [217, 217, 217]]
)  # fmt: skip


@pytest.fixture
def write_palette_png() -> Callable[[Path, np.ndarray], None]:
    def write(path: Path, indices: np.ndarray) -> None:
        path.write_bytes(palette_png_bytes(indices, np.tile(CLEVRTEX_CMAP, (4, 1))))

    return write
