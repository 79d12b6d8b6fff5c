"""Hand-drawn label maps and the tracker's view of their objects, shared by the
object-tracking tests (no model, no background graph)."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from sdk.fixed_camera.fused import FusedLabels, FusedObject, measure_labels
from sdk.fixed_camera.object_colour import mean_colour
from sdk.fixed_camera.object_tracks import ObjectTracks
from sdk.tracker import Observation

H, W = 120, 200  # the maps' size
GREY = (90, 90, 90)  # the images' background


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


def painted(*layers: tuple[np.ndarray, tuple[int, int, int]]) -> np.ndarray:
    """An [H, W, 3] uint8 image: grey, then each mask painted in its colour (later on top)."""
    image = np.empty((H, W, 3), np.uint8)
    image[:] = GREY
    for mask, colour in layers:
        image[mask] = colour
    return image


def coloured_step(
    tracks: ObjectTracks, image: np.ndarray | None, *blobs: np.ndarray
) -> tuple[FusedLabels, list[int]]:
    """One frame of `blobs` (labels 1, 2, ... in order) through ObjectTracks, each object
    observed with its mean chromaticity in `image` as fixed-camera mode gives it (None: no
    image, no colour)."""
    labels = np.zeros((H, W), np.uint8)
    for label, blob in enumerate(blobs, start=1):
        labels[blob] = label

    def coloured(obj: FusedObject, labels: np.ndarray) -> Observation:
        seen = observe(obj, labels)
        if image is not None:
            seen = replace(seen, colour=mean_colour(image, labels, obj))
        return seen

    return tracks.update(FusedLabels(labels, measure_labels(labels, {})), coloured, 0, image)


def claimed_frame(car: np.ndarray, *unclaimed: np.ndarray) -> FusedLabels:
    """A car slot 0 claims, and blobs no slot claims."""
    labels = np.zeros((H, W), np.uint8)
    labels[car] = 1
    for label, blob in enumerate(unclaimed, start=2):
        labels[blob] = label
    return FusedLabels(labels, measure_labels(labels, {1: 0}))
