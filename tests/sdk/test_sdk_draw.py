"""draw_objects: the LUT-and-copyTo tint and label-map outlines equal a plain per-pixel drawing."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sdk.draw import draw_objects, id_colour


@dataclass
class _Object:
    id: int
    slot: int
    bbox: tuple[int, int, int, int]


def _labels() -> np.ndarray:
    labels = np.zeros((120, 160), np.uint8)
    cv2.circle(labels, (40, 50), 18, 1, -1)
    cv2.rectangle(labels, (90, 20), (130, 70), 3, -1)
    cv2.circle(labels, (120, 95), 12, 2, -1)  # slot 1: below the thresholds, not reported
    return labels


def _box(labels: np.ndarray, label: int) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(labels == label)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _reference(
    image: np.ndarray, labels: np.ndarray, objects: list[_Object], contours: bool
) -> np.ndarray:
    """Each object's mask tinted on its own, then its outline traced from a full-frame mask."""
    out = image.copy()
    for obj in objects:
        mask = labels == obj.slot + 1
        colour = np.zeros_like(image)
        colour[:] = id_colour(obj.id)
        out[mask] = cv2.addWeighted(image, 0.55, colour, 0.45, 0.0)[mask]
    for obj in objects if contours else []:
        mask = (labels == obj.slot + 1).astype(np.uint8)
        found, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, found, -1, id_colour(obj.id), 1, cv2.LINE_AA)
    return out


def test_tint_and_outlines_equal_the_per_object_drawing() -> None:
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    labels = _labels()
    objects = [_Object(7, 0, _box(labels, 1)), _Object(2, 2, _box(labels, 3))]
    for contours in (False, True):
        drawn = draw_objects(image, objects, labels, contours=contours, labels=False)
        assert np.array_equal(drawn, _reference(image, labels, objects, contours))
        # the unreported slot (label 2) and the background keep the frame's own pixels
        untouched = (labels == 0) | (labels == 2)
        if not contours:
            assert np.array_equal(drawn[untouched], image[untouched])
            assert (drawn[~untouched] != image[~untouched]).any(axis=1).mean() > 0.99
    assert np.array_equal(draw_objects(image, [], labels), image)
