"""Annotated frames: masks tinted in one colour per object ID, outlines and ID labels.

Colours come from the ID alone (golden-ratio hue steps), so an object keeps its
colour across frames and across runs, and neighbouring IDs look different.
Only each object's own box is blended, and outlines are traced from the label
map, so drawing stays cheap on large frames with small objects and needs no
full-size mask.
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
    masks = []  # each object's pixels inside its box, for the tint and then its outline
    for obj in objects:
        # each object's own box: its pixels are nobody else's, so boxes may overlap freely
        bx0, by0, bx1, by1 = obj.bbox
        box = out[by0:by1, bx0:bx1]
        colour = np.empty_like(box)
        colour[:] = id_colour(obj.id)
        tint = cv2.addWeighted(box, 1.0 - alpha, colour, alpha, 0.0)
        owned = (slot_labels[by0:by1, bx0:bx1] == obj.slot + 1).view(np.uint8)
        cv2.copyTo(tint, owned, box)  # writes into `out` through the view
        masks.append(owned)
    thickness = max(1, round(min(image.shape[:2]) / 240))
    for obj, owned in zip(objects, masks, strict=True):
        colour = id_colour(obj.id)
        bx0, by0, bx1, by1 = obj.bbox
        if contours:
            found, _ = cv2.findContours(
                owned, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(bx0, by0)
            )
            cv2.drawContours(out, found, -1, colour, thickness, cv2.LINE_AA)
        if boxes:
            cv2.rectangle(out, (bx0, by0), (bx1 - 1, by1 - 1), colour, thickness)
        if labels:
            _label(out, str(obj.id), (bx0, by0), colour)
    return out


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
