"""draw_objects: the box-limited tint and inner-band outlines equal a plain full-frame drawing."""

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
    image: np.ndarray, labels: np.ndarray, objects: list[_Object], contours: bool, thickness: int
) -> np.ndarray:
    """Each object's full-frame mask tinted in float64, then its pixels within `thickness`
    of a pixel that is not the object's (or of the frame's edge) set to the solid colour."""
    out = image.copy()
    for obj in objects:
        mask = labels == obj.slot + 1
        colour = np.array(id_colour(obj.id), np.float64)
        out[mask] = np.rint(0.55 * image[mask] + 0.45 * colour).astype(np.uint8)
        if contours:
            padded = np.pad(mask, thickness)
            core = np.ones_like(mask)
            for dy in range(2 * thickness + 1):
                for dx in range(2 * thickness + 1):
                    core &= padded[dy : dy + mask.shape[0], dx : dx + mask.shape[1]]
            out[mask & ~core] = id_colour(obj.id)
    return out


def test_tint_and_outlines_equal_the_per_object_drawing() -> None:
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    labels = _labels()
    labels[0:10, 150:160] = 1  # slot 0 also touches the frame's corner: outlined there too
    objects = [_Object(7, 0, _box(labels, 1)), _Object(2, 2, _box(labels, 3))]
    for contours in (False, True):
        drawn = draw_objects(image, objects, labels, contours=contours, labels=False)
        expected = _reference(image, labels, objects, contours, thickness=1)
        # float rounding of the blend may differ at an exact half: one level at most
        assert np.abs(drawn.astype(int) - expected).max() <= 1
        assert (drawn != expected).mean() < 0.01
        # the unreported slot (label 2) and the background keep the frame's own pixels
        untouched = (labels == 0) | (labels == 2)
        assert np.array_equal(drawn[untouched], image[untouched])
        if not contours:
            assert (drawn[~untouched] != image[~untouched]).any(axis=1).mean() > 0.99
    assert np.array_equal(draw_objects(image, [], labels), image)


def test_outline_is_thicker_on_larger_frames() -> None:
    labels = np.zeros((720, 1280), np.uint8)
    cv2.circle(labels, (640, 360), 100, 1, -1)
    labels[300:420, 400:560] = 1  # a straight left edge at x = 400
    image = np.zeros((720, 1280, 3), np.uint8)
    obj = _Object(4, 0, _box(labels, 1))
    drawn = draw_objects(image, [obj], labels, labels=False)
    expected = _reference(image, labels, [obj], True, thickness=3)  # round(720 / 240)
    assert np.abs(drawn.astype(int) - expected).max() <= 1
    solid = (drawn == id_colour(4)).all(axis=2)
    assert solid[360, 400:403].all() and not solid[360, 403]  # 3 pixels in from the edge
    assert not solid[360, 399]  # and nothing outside the object
