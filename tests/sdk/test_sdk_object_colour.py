"""The chromaticity under an object's mask (sdk.fixed_camera.object_colour)."""

from __future__ import annotations

import numpy as np
import pytest

from sdk.fixed_camera.fused import measure_labels
from sdk.fixed_camera.object_colour import mean_colour


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """A red object (label 1) on a grey frame."""
    frame = np.full((60, 80, 3), 128, np.uint8)
    labels = np.zeros((60, 80), np.uint8)
    labels[10:50, 10:30] = 1
    frame[10:50, 10:30] = (200, 40, 40)
    return frame, labels


def test_only_the_objects_own_pixels_count() -> None:
    frame, labels = _scene()
    (obj,) = measure_labels(labels, {})
    np.testing.assert_allclose(mean_colour(frame, labels, obj), np.array([200, 40, 40]) / 280)


def test_a_brighter_light_leaves_the_chromaticity_unchanged() -> None:
    frame, labels = _scene()
    (obj,) = measure_labels(labels, {})
    dim = mean_colour(frame, labels, obj)
    bright = mean_colour((frame.astype(np.float64) * 1.2).astype(np.uint8), labels, obj)
    # 1.2 x 40 = 48 exactly, 1.2 x 200 = 240: the same ratios
    np.testing.assert_allclose(bright, dim)


def test_every_pixel_of_a_textured_object_counts() -> None:
    frame = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    labels = np.zeros((40, 60), np.uint8)
    labels[5:35, 10:50] = 2
    labels[20:35, 10:20] = 0  # a notch: those pixels are not the object's
    (obj,) = measure_labels(labels, {})
    mean = frame[labels == 2].astype(np.float64).mean(axis=0)
    # cv2 sums in float64: the same mean to the last few bits
    np.testing.assert_allclose(mean_colour(frame, labels, obj), mean / mean.sum(), rtol=1e-12)


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((20, 20, 3), np.uint8),  # black: no hue
        np.full((20, 20), 90, np.uint8),  # a grey-level camera
        np.full((20, 20, 1), 90, np.uint8),
        np.full((20, 20, 3), np.inf, np.float32),  # float frames the runtime clips for the model
        np.full((20, 20, 3), -0.5, np.float32),
    ],
    ids=["black", "grey-level", "one-channel", "inf", "negative"],
)
def test_no_hue_is_unknown_not_a_colour(frame: np.ndarray) -> None:
    labels = np.ones((20, 20), np.uint8)
    (obj,) = measure_labels(labels, {})
    assert mean_colour(frame, labels, obj) is None


def test_four_channel_frames_use_the_colour_channels() -> None:
    frame = np.zeros((10, 10, 4), np.uint8)
    frame[..., :3] = (30, 60, 90)
    frame[..., 3] = 255  # alpha
    labels = np.ones((10, 10), np.uint8)
    (obj,) = measure_labels(labels, {})
    np.testing.assert_allclose(mean_colour(frame, labels, obj), [1 / 6, 2 / 6, 3 / 6])
