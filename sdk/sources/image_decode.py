"""Decode an image file from a stranger, or say in a few words why it cannot be.

A PNG that declares 40 000 x 40 000 pixels in a 1.6 MB file would ask OpenCV for gigabytes
(or trip its own assertion, a `cv2.error`); its size is read from the header and refused
before anything is decoded. Every OpenCV failure becomes an `UnreadableImage` whose
reason a folder reader can log and count, so one bad file never ends a run.
`sdk.sources` (astseg run) and `training.data.imageio` (eval, train) both decode here.
"""

from __future__ import annotations

import struct

import cv2
import numpy as np

MAX_IMAGE_PIXELS = 1 << 30  # OpenCV's own limit (CV_IO_MAX_IMAGE_PIXELS)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class UnreadableImage(ValueError):
    """The bytes are not an image astseg can decode; the message is why, in words that
    follow "not a readable image (...)"."""


def declared_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's header, without decoding; None for other formats."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def decode_image(data: bytes | np.ndarray, flags: int) -> np.ndarray:
    """`cv2.imdecode` with its failures, and absurd declared sizes, as UnreadableImage."""
    raw = np.frombuffer(data, np.uint8) if isinstance(data, bytes) else data
    if raw.size == 0:
        raise UnreadableImage("an empty file")
    size = declared_size(raw[:24].tobytes())
    if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise UnreadableImage(
            f"it declares {size[0]}x{size[1]} pixels, more than the {MAX_IMAGE_PIXELS} an "
            "image may have; skipped before decoding"
        )
    try:
        image = cv2.imdecode(raw, flags)
    except cv2.error as err:  # OpenCV asserts on sizes and headers it cannot take
        reason = str(err).strip().splitlines()[-1][:160] if str(err).strip() else "cv2.error"
        raise UnreadableImage(f"OpenCV: {reason}") from None
    if image is None or not image.size:
        raise UnreadableImage("corrupt or unsupported format")
    return image
