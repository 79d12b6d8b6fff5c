"""Hand-drawn label maps and the tracker's view of their objects, shared by the
object-tracking tests (no model, no background graph)."""

from __future__ import annotations

import cv2
import numpy as np

from sdk.fixed_camera.fused import FusedObject
from sdk.tracker import Observation

H, W = 120, 200  # the maps' size


def disc(x: float, y: float, r: float) -> np.ndarray:
    """bool [H, W]: a filled disc."""
    mask = np.zeros((H, W), np.uint8)
    cv2.circle(mask, (round(x), round(y)), round(r), 1, -1)
    return mask.astype(bool)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two bool masks."""
    return float((a & b).sum()) / float((a | b).sum())


def observe(obj: FusedObject, labels: np.ndarray) -> Observation:
    """The observation fixed-camera mode makes of a map object: centre and box extent in
    -1..1 units, no appearance, no colour."""
    x0, y0, x1, y1 = obj.bbox
    return Observation(
        position=np.array(
            [(obj.centroid[0] + 0.5) / W * 2 - 1, (obj.centroid[1] + 0.5) / H * 2 - 1]
        ),
        size=np.array([2.0 * (x1 - x0) / W, 2.0 * (y1 - y0) / H]),
        appearance=np.zeros(0),
    )
