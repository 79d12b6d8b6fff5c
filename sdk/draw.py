"""Annotated frames: masks tinted in one colour per object ID, outlines and ID labels.

Colours come from the ID alone (golden-ratio hue steps), so an object keeps its
colour across frames and across runs, and neighbouring IDs look different.
Only the box around the reported objects is blended, which keeps drawing cheap
on large frames with small objects.
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
    # per-label lookups done by cv2.LUT: one cheap pass each instead of numpy gathers
    lut = np.zeros((1, 256, 3), dtype=np.uint8)
    owned = np.zeros(256, dtype=np.uint8)
    for obj in objects:
        lut[0, obj.slot + 1] = id_colour(obj.id)
        owned[obj.slot + 1] = 1
    x0 = min(o.bbox[0] for o in objects)
    y0 = min(o.bbox[1] for o in objects)
    x1 = max(o.bbox[2] for o in objects)
    y1 = max(o.bbox[3] for o in objects)
    window = np.ascontiguousarray(slot_labels[y0:y1, x0:x1])
    region = out[y0:y1, x0:x1]
    colours = cv2.LUT(cv2.merge((window, window, window)), lut)
    tint = cv2.addWeighted(region, 1.0 - alpha, colours, alpha, 0.0)
    cv2.copyTo(tint, cv2.LUT(window, owned), region)  # writes into `out` through the view
    thickness = max(1, round(min(image.shape[:2]) / 240))
    for obj in objects:
        colour = id_colour(obj.id)
        bx0, by0, bx1, by1 = obj.bbox
        if contours:
            local = (slot_labels[by0:by1, bx0:bx1] == obj.slot + 1).view(np.uint8)
            found, _ = cv2.findContours(
                local, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(bx0, by0)
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
