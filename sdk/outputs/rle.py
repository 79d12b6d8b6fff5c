"""COCO run-length encoding of binary masks, written here so the runtime needs no pycocotools.

Conventions (those of pycocotools, so COCO tools read our JSON): the mask is
flattened in column-major (Fortran) order; counts alternate runs of 0 and 1 and
always start with a run of zeros (possibly empty); `size` is [height, width].
The compressed string stores each count, minus the count two places before it
from the fourth on, as 5-bit groups with a continuation bit, offset by 48 into
printable ASCII.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def mask_to_counts(mask: np.ndarray) -> list[int]:
    """Uncompressed COCO counts of a 2-D boolean mask."""
    if mask.ndim != 2:
        raise ValueError(f"a mask must be 2-D, not of shape {mask.shape}.")
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    if flat.size == 0:
        return []
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat[0] else runs


def box_counts(box: np.ndarray, x0: int, y0: int, height: int, width: int) -> list[int]:
    """Counts of a height×width mask that is False outside a box, from the box alone.

    `box` is the mask's content at rows y0.., columns x0.. . The same counts as
    `mask_to_counts` on the whole mask, at a cost that follows the box, not the frame.
    """
    h, w = box.shape
    if y0 < 0 or x0 < 0 or y0 + h > height or x0 + w > width:
        raise ValueError(f"a {h}×{w} box at ({x0}, {y0}) does not fit a {height}×{width} mask.")
    if h == height:  # whole columns: one stretch of the column-major order
        flat = np.zeros(h * w + 2, bool)
        flat[1:-1] = np.asarray(box, dtype=bool).T.ravel()
        changes = np.flatnonzero(flat[1:] != flat[:-1]) + x0 * height
    else:  # each column of the box between two False cells standing for the rest
        padded = np.zeros((w, h + 2), bool)
        padded[:, 1:-1] = np.asarray(box, dtype=bool).T
        flat = padded.ravel()
        column, row = np.divmod(np.flatnonzero(flat[1:] != flat[:-1]) + 1, h + 2)
        changes = (x0 + column) * height + y0 + row - 1
    # a change just past the last pixel only says the mask ends on True
    changes = changes[changes < height * width]
    bounds = np.concatenate(([0], changes, [height * width]))
    return np.diff(bounds).tolist()


def counts_to_mask(counts: list[int], height: int, width: int) -> np.ndarray:
    """Boolean [height, width] mask from uncompressed COCO counts."""
    total = int(sum(counts))
    if total != height * width or any(c < 0 for c in counts):
        raise ValueError(f"RLE counts sum to {total}, not {height}×{width} = {height * width}.")
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, counts)
    return flat.reshape((width, height)).T.copy()


def counts_to_string(counts: list[int]) -> str:
    """Compress counts to the COCO string form."""
    out = []
    for i, count in enumerate(counts):
        x = int(count) - (int(counts[i - 2]) if i > 2 else 0)
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def string_to_counts(text: str) -> list[int]:
    """Decompress the COCO string form to counts."""
    counts: list[int] = []
    p = 0
    while p < len(text):
        x = 0
        k = 0
        more = True
        while more:
            if p >= len(text):
                raise ValueError("RLE string ends in the middle of a number.")
            c = ord(text[p]) - 48
            if not 0 <= c < 64:
                raise ValueError(f"RLE string has an invalid character {text[p]!r}.")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def encode(mask: np.ndarray, compressed: bool = True) -> dict[str, Any]:
    """COCO RLE dict {"size": [h, w], "counts": str | list[int]} of a 2-D boolean mask."""
    counts = mask_to_counts(mask)
    height, width = mask.shape
    return {
        "size": [int(height), int(width)],
        "counts": counts_to_string(counts) if compressed else counts,
    }


def encode_box(
    box: np.ndarray, x0: int, y0: int, height: int, width: int, compressed: bool = True
) -> dict[str, Any]:
    """`encode` of a height×width mask that is False outside a box (see `box_counts`)."""
    counts = box_counts(box, x0, y0, height, width)
    return {
        "size": [int(height), int(width)],
        "counts": counts_to_string(counts) if compressed else counts,
    }


def decode(rle: dict[str, Any]) -> np.ndarray:
    """Boolean mask from a COCO RLE dict (compressed string, bytes or uncompressed list)."""
    height, width = (int(v) for v in rle["size"])
    counts = rle["counts"]
    if isinstance(counts, bytes):
        counts = counts.decode("ascii")
    if isinstance(counts, str):
        counts = string_to_counts(counts)
    return counts_to_mask([int(c) for c in counts], height, width)


def area(rle: dict[str, Any]) -> int:
    """Number of foreground pixels, without decoding the mask."""
    counts = rle["counts"]
    if isinstance(counts, (str, bytes)):
        counts = string_to_counts(counts.decode("ascii") if isinstance(counts, bytes) else counts)
    return int(sum(counts[1::2]))
