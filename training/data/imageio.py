"""Reading and writing images and instance-id maps with OpenCV, RGB order, clear errors.

Instance-id maps are single-channel 8- or 16-bit PNGs (0 = background). Palette PNGs
(as CLEVRTEX ships its masks) are read as their palette indices: OpenCV expands them to
colours, and the PLTE chunk maps each colour back to its index.
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np

from sdk.outputs.output_paths import write_output
from sdk.sources.image_decode import UnreadableImage, decode_image
from training.data.errors import DataError

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PALETTE_COLOUR_TYPE = 3


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path} does not exist") from None
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from None


def _decode(path: Path, data: bytes, flags: int) -> np.ndarray:
    try:
        return decode_image(data, flags)
    except UnreadableImage as why:
        raise DataError(f"{path} is not a readable image ({why})") from None


def read_image(path: str | Path) -> np.ndarray:
    """Returns uint8 [H, W, 3] RGB; grey and alpha images are converted (alpha dropped)."""
    path = Path(path)
    array = _decode(path, _read_bytes(path), cv2.IMREAD_UNCHANGED)
    if array.dtype == np.uint16:
        array = (array // 257).astype(np.uint8)
    if array.dtype != np.uint8:
        raise DataError(f"{path} has pixel type {array.dtype}; expected 8-bit RGB")
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.shape[2] == 4:
        array = array[:, :, :3]
    return np.ascontiguousarray(array[:, :, ::-1])


def _png_palette(data: bytes) -> np.ndarray | None:
    """The PLTE entries [N, 3] RGB of a palette PNG, None for any other image."""
    if not data.startswith(_PNG_SIGNATURE) or len(data) < 33:
        return None
    if data[12:16] != b"IHDR" or data[25] != _PALETTE_COLOUR_TYPE:
        return None
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"PLTE":
            entries = np.frombuffer(data[pos + 8 : pos + 8 + length], np.uint8)
            return entries[: len(entries) // 3 * 3].reshape(-1, 3)
        if kind == b"IDAT":
            break
        pos += 12 + length
    return None


def _palette_indices(path: Path, bgr: np.ndarray, palette: np.ndarray) -> np.ndarray:
    codes = palette.astype(np.int64) @ np.array([65536, 256, 1])
    # First index wins: palettes padded with repeated colours map back to the low index.
    unique_codes, first = np.unique(codes, return_index=True)
    rgb = bgr[:, :, ::-1].astype(np.int64)
    pixel_codes = rgb @ np.array([65536, 256, 1])
    pos = np.searchsorted(unique_codes, pixel_codes)
    pos = np.clip(pos, 0, len(unique_codes) - 1)
    if not np.all(unique_codes[pos] == pixel_codes):
        raise DataError(f"{path} has colours that are not in its own palette")
    return first[pos].astype(np.int32)


def read_labels(path: str | Path) -> np.ndarray:
    """Reads an instance-id map: int32 [H, W]; 8/16-bit grey or palette PNG, 0 = background."""
    path = Path(path)
    data = _read_bytes(path)
    palette = _png_palette(data)
    if palette is not None:
        return _palette_indices(path, _decode(path, data, cv2.IMREAD_COLOR), palette)
    array = _decode(path, data, cv2.IMREAD_UNCHANGED)
    if array.ndim == 3:
        raise DataError(
            f"{path} has {array.shape[2]} channels; a mask must be a single-channel 8- or "
            "16-bit PNG of instance ids (0 = background)"
        )
    if array.dtype not in (np.uint8, np.uint16):
        raise DataError(f"{path} has pixel type {array.dtype}; expected 8- or 16-bit ids")
    return array.astype(np.int32)


def encode_png(array: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 image [H, W, 3] or an id map [H, W] (uint8/uint16)."""
    if array.ndim == 3:
        array = np.ascontiguousarray(array[:, :, ::-1])
    ok, buf = cv2.imencode(".png", array)
    if not ok:
        raise DataError(f"cannot encode an array of shape {array.shape} as PNG")
    return buf.tobytes()


def labels_for_png(labels: np.ndarray) -> np.ndarray:
    """The narrowest PNG type (8- or 16-bit) that holds these instance ids."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() > 65535):
        raise DataError(f"instance ids must lie in 0..65535, got {labels.min()}..{labels.max()}")
    dtype = np.uint8 if not labels.size or labels.max() <= 255 else np.uint16
    return labels.astype(dtype)


def write_image(path: str | Path, image: np.ndarray) -> None:
    """Writes an RGB uint8 image atomically (PNG, or JPEG when the name ends in .jpg)."""
    path = Path(path)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(image[:, :, ::-1]))
        if not ok:
            raise DataError(f"cannot encode {path} as JPEG")
        write_output(path, buf.tobytes())
    else:
        write_output(path, encode_png(image))


def write_labels(path: str | Path, labels: np.ndarray) -> None:
    """Writes an instance-id map atomically as an 8- or 16-bit PNG."""
    write_output(path, encode_png(labels_for_png(labels)))
