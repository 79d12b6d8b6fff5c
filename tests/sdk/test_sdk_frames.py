"""Frames of any layout and type reach the model as the same input; masks map back exactly."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from sdk_media import scene

from sdk import Segmenter
from sdk.postprocess import frame_labels, slot_regions
from sdk.preprocess import to_display_bgr, to_model_input


@pytest.fixture(scope="module")
def bgr() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)


def test_bgr_rgb_and_bgra_give_the_same_input(bgr: np.ndarray) -> None:
    reference = to_model_input(bgr, 64, 64)
    assert reference.shape == (3, 64, 64) and reference.dtype == np.uint8
    expected_rgb = cv2.resize(bgr, (64, 64), interpolation=cv2.INTER_AREA)[:, :, ::-1]
    assert np.array_equal(reference, expected_rgb.transpose(2, 0, 1))
    assert np.array_equal(to_model_input(bgr[:, :, ::-1], 64, 64, "rgb"), reference)
    bgra = np.dstack([bgr, np.full(bgr.shape[:2], 7, np.uint8)])
    assert np.array_equal(to_model_input(bgra, 64, 64), reference)
    rgba = np.dstack([bgr[:, :, ::-1], np.zeros(bgr.shape[:2], np.uint8)])
    assert np.array_equal(to_model_input(rgba, 64, 64, "rgb"), reference)


@pytest.mark.parametrize(
    ("height", "width"), [(720, 1280), (1080, 1920), (480, 640), (1280, 720), (700, 1280)]
)
def test_camera_sizes_take_two_passes_and_match_the_one_pass_average(
    height: int, width: int
) -> None:
    """One axis a whole multiple of 64, the other not: averaged in two passes, one level at
    most from cv2's one-pass INTER_AREA, and on all but a rare half-way value equal to it."""
    rng = np.random.default_rng(height + width)
    smooth = cv2.resize(
        rng.integers(0, 256, (height // 16, width // 16, 3), dtype=np.uint8), (width, height)
    )
    for frame in (smooth, rng.integers(0, 256, (height, width, 3), dtype=np.uint8)):
        one_pass = cv2.resize(frame, (64, 64), interpolation=cv2.INTER_AREA)[:, :, ::-1]
        expected = one_pass.transpose(2, 0, 1).astype(int)
        got = to_model_input(frame, 64, 64).astype(int)
        assert np.abs(got - expected).max() <= 1
        assert (got != expected).mean() <= 0.005
        wide = to_model_input(frame.astype(np.uint16) * 257, 64, 64).astype(int)
        assert np.abs(wide - expected).max() <= 1


def test_gray_layouts_replicate_to_three_channels(bgr: np.ndarray) -> None:
    gray = bgr[:, :, 1]
    a = to_model_input(gray, 64, 64)
    b = to_model_input(gray[:, :, None], 64, 64)
    assert np.array_equal(a, b)
    assert np.array_equal(a[0], a[1]) and np.array_equal(a[1], a[2])
    assert np.array_equal(a[0], cv2.resize(gray, (64, 64), interpolation=cv2.INTER_AREA))


def test_uint16_and_float_match_uint8(bgr: np.ndarray) -> None:
    reference = to_model_input(bgr, 64, 64)
    as16 = bgr.astype(np.uint16) * 257
    assert np.abs(to_model_input(as16, 64, 64).astype(int) - reference).max() <= 1
    for dtype in (np.float16, np.float32, np.float64):
        as_float = (bgr / 255.0).astype(dtype)
        assert np.abs(to_model_input(as_float, 64, 64).astype(int) - reference).max() <= 1
    hot = np.full((10, 10, 3), np.nan, np.float32)
    hot[0, 0] = 5.0
    out = to_model_input(hot, 10, 10)
    assert out[:, 0, 0].tolist() == [255, 255, 255] and out[:, 5, 5].tolist() == [0, 0, 0]


def test_small_frames_are_enlarged_and_display_is_bgr(bgr: np.ndarray) -> None:
    small = bgr[:20, :30]
    assert to_model_input(small, 64, 64).shape == (3, 64, 64)
    assert np.array_equal(to_display_bgr(bgr[:, :, ::-1], "rgb"), bgr)
    assert to_display_bgr(bgr[:, :, 0]).shape == (90, 120, 3)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (np.zeros((4, 4, 2), np.uint8), r"is not H×W"),
        (np.zeros((4,), np.uint8), r"is not H×W"),
        (np.zeros((0, 4, 3), np.uint8), r"is empty"),
        (np.zeros((4, 4, 3), np.int32), r"dtype int32 are not supported"),
        (np.zeros((4, 4, 3), bool), r"dtype bool are not supported"),
        ([[0, 1]], r"must be a numpy array"),
    ],
)
def test_bad_frames_are_one_sentence(frame: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_model_input(frame, 8, 8)  # type: ignore[arg-type]


def _smooth_weights(layers: int, h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = cv2.resize(rng.normal(0, 3, (h // 8, w // 8, layers)).astype(np.float32), (w, h))
    logits[:, :, 0] += 2.0  # mostly background, like a real scene
    weights = np.exp(logits - logits.max(axis=2, keepdims=True))
    return np.ascontiguousarray((weights / weights.sum(axis=2, keepdims=True)).transpose(2, 0, 1))


@pytest.mark.parametrize(
    ("height", "width"), [(480, 640), (120, 160), (37, 301), (64, 64), (20, 50)]
)
def test_labels_equal_argmax_of_resized_weights(height: int, width: int) -> None:
    for seed in range(3):
        weights = _smooth_weights(5, 64, 64, seed)
        segmentation = weights.argmax(axis=0)
        got = frame_labels(weights, segmentation, height, width).labels
        up = cv2.resize(weights.transpose(1, 2, 0), (width, height), interpolation=cv2.INTER_LINEAR)
        expected = up.reshape(height, width, -1).argmax(axis=2)
        agreement = (got == expected).mean()
        assert agreement > 0.999, agreement  # only sub-pixel ties at boundaries may differ


@pytest.mark.parametrize(("height", "width"), [(480, 640), (37, 301), (20, 50)])
def test_window_and_skipped_layers_change_no_label(height: int, width: int) -> None:
    """The shortcuts change no label: labels equal the argmax of every layer resized on its
    own, except where two layers' blended weights tie within float32 rounding."""
    for seed in range(3):
        weights = _smooth_weights(5, 64, 64, seed)
        capped = np.minimum(weights[3], 0.1)  # under 1/5 everywhere: skipped, never wins
        weights[0] += weights[3] - capped
        weights[3] = capped
        got = frame_labels(weights, weights.argmax(axis=0), height, width)
        planes = [cv2.resize(np.ascontiguousarray(p), (width, height)) for p in weights]
        expected = np.argmax(np.stack(planes), axis=0)  # ties keep the lower layer
        ys, xs = np.nonzero(got.labels != expected)
        assert ys.size <= 1e-4 * height * width
        gaps = [
            planes[got.labels[y, x]][y, x] - planes[expected[y, x]][y, x]
            for y, x in zip(ys, xs, strict=True)
        ]
        assert all(abs(g) <= 1e-6 for g in gaps), gaps  # a few float32 eps on weights <= 1
        assert got.labels[got.y0 : got.y1, got.x0 : got.x1].sum() == got.labels.sum()
        assert 3 not in got.labels


def test_regions_measure_exactly() -> None:
    weights = _smooth_weights(4, 64, 64, 7)
    fl = frame_labels(weights, weights.argmax(axis=0), 300, 400)
    for region in slot_regions(fl, 3):
        mask = fl.labels == region.slot + 1
        assert np.array_equal(region.mask, mask)
        ys, xs = np.nonzero(mask)
        assert region.area == xs.size
        assert region.bbox == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        assert region.centroid == pytest.approx((xs.mean(), ys.mean()), abs=1e-6)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_off_centre_object_in_non_square_frame_maps_to_its_pixels(toy_bundle_dir: Path) -> None:
    height, width = 270, 720  # 8:3, far from the model's square input
    frame = np.full((height, width, 3), 40, np.uint8)
    cv2.ellipse(frame, (560, 70), (60, 35), 0, 0, 360, (0, 200, 255), -1)
    truth = frame[:, :, 2] > 127
    seg = Segmenter(toy_bundle_dir)
    result = seg(frame)
    assert len(result.objects) == 1
    obj = result.objects[0]
    assert obj.mask.shape == (height, width)
    assert _iou(obj.mask, truth) > 0.93
    ys, xs = np.nonzero(truth)
    assert obj.centroid == pytest.approx((xs.mean(), ys.mean()), abs=1.5)
    expected_box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    assert np.abs(np.array(obj.bbox) - np.array(expected_box)).max() <= 4
    # the glimpse spans the ellipse: 2 semi-axes of 60 and 35 pixels
    assert obj.scale == pytest.approx((120, 70), rel=0.1)
    assert result.frame_shape == (height, width)
    assert result.foreground is None  # slot mode: the bundle has no background model
    assert np.array_equal(result.slot_labels != 0, obj.mask)
    assert obj.mask is obj.mask  # made once, on first access, from the frame's labels
    assert obj.mask.sum() == obj.area
    assert set(np.unique(result.label_map)) == {0, obj.id}


def test_every_layout_and_type_finds_the_same_object(fused_bundle_dir: Path) -> None:
    seg = Segmenter(fused_bundle_dir, track=False)
    frame = scene(150, 200, [(60, 90, 25, (0, 0, 255))])
    masks = {}
    variants = {
        "bgr": (frame, "bgr"),
        "rgb": (frame[:, :, ::-1].copy(), "rgb"),
        "bgra": (np.dstack([frame, np.full(frame.shape[:2], 255, np.uint8)]), "bgr"),
        "uint16": (frame.astype(np.uint16) * 257, "bgr"),
        "float32": (frame.astype(np.float32) / 255, "bgr"),
        "gray": (np.where(frame.max(axis=2) > 127, 255, 40).astype(np.uint8), "bgr"),
    }
    for name, (image, channels) in variants.items():
        result = seg(image, channels=channels)  # type: ignore[arg-type]
        assert len(result.objects) == 1, name
        masks[name] = result.objects[0].mask
    for name, mask in masks.items():
        assert _iou(mask, masks["bgr"]) > 0.99, name
