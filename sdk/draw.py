"""Annotated frames: masks tinted in one colour per object ID, outlines and ID labels.

Colours come from the ID alone (golden-ratio hue steps), so an object keeps its
colour across frames and across runs, and neighbouring IDs look different.
Drawing touches only object pixels and is done inside each object's own box: the
tint is one affine colour transform of the box written through the object's mask,
and the outline is the band of the object's own pixels within `thickness` of its
edge (the mask minus its erosion), in the solid ID colour. So the cost follows the
objects' size, not the frame's, and no full-size mask is made.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np

_GOLDEN = 0.618033988749895


class Drawable(Protocol):
    id: int
    slot: int
    bbox: tuple[int, int, int, int]


def id_colour(track_id: int) -> tuple[int, int, int]:
    """A saturated BGR colour that depends only on the ID."""
    hue = (0.13 + track_id * _GOLDEN) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 1.0)
    return int(b * 255), int(g * 255), int(r * 255)


def draw_objects(
    image: np.ndarray,
    objects: Sequence[Drawable],
    slot_labels: np.ndarray,
    *,
    alpha: float = 0.45,
    contours: bool = True,
    boxes: bool = False,
    labels: bool = True,
) -> np.ndarray:
    """A copy of the BGR `image` with every object drawn; `slot_labels` is slot+1 per pixel."""
    out = image.copy()
    if not objects:
        return out
    thickness = max(1, round(min(image.shape[:2]) / 240))
    band = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * thickness + 1, 2 * thickness + 1))
    for obj in objects:
        # each object's own box: its pixels are nobody else's, so boxes may overlap freely
        bx0, by0, bx1, by1 = obj.bbox
        box = out[by0:by1, bx0:bx1]
        colour = id_colour(obj.id)
        owned = (slot_labels[by0:by1, bx0:bx1] == obj.slot + 1).view(np.uint8)
        cv2.copyTo(cv2.transform(box, _tint(colour, alpha)), owned, box)  # writes into `out`
        if contours:  # outside the box counts as not the object (it is, by the box's making)
            inner = cv2.erode(owned, band, borderType=cv2.BORDER_CONSTANT, borderValue=0)
            box[cv2.subtract(owned, inner).view(bool)] = colour
    for obj in objects:  # tags last, so that no other object's tint covers them
        colour = id_colour(obj.id)
        bx0, by0, bx1, by1 = obj.bbox
        if boxes:
            cv2.rectangle(out, (bx0, by0), (bx1 - 1, by1 - 1), colour, thickness)
        if labels:
            _label(out, str(obj.id), (bx0, by0), colour)
    return out


def _tint(colour: tuple[int, int, int], alpha: float) -> np.ndarray:
    """The 3×4 matrix of pixel -> (1 - alpha)·pixel + alpha·colour, for cv2.transform."""
    matrix = np.zeros((3, 4), np.float32)
    matrix[[0, 1, 2], [0, 1, 2]] = 1.0 - alpha
    matrix[:, 3] = [alpha * c for c in colour]
    return matrix


def _label(
    image: np.ndarray, text: str, corner: tuple[int, int], colour: tuple[int, int, int]
) -> None:
    """A filled tag with the text, above the box when there is room, else inside it."""
    scale = max(0.4, min(image.shape[:2]) / 900)
    thickness = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x, y = corner
    top = y - th - base - 2 if y - th - base - 2 >= 0 else y
    x = min(max(0, x), max(0, image.shape[1] - tw - 4))
    cv2.rectangle(image, (x, top), (x + tw + 4, top + th + base + 2), colour, -1)
    luminance = 0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2]
    ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
    cv2.putText(
        image,
        text,
        (x + 2, top + th + 1),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        ink,
        thickness,
        cv2.LINE_AA,
    )
