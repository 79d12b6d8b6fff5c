"""mIoU (ClevrTex's foreground-only and background-inclusive), MSC-FG and MSE on hand-built
cases with known answers, and mIoU against a direct per-pair transcription of the benchmark
procedure on random maps."""

import math

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from training.metrics import matched_iou, msc_fg, mse


def _scene() -> np.ndarray:
    truth = np.zeros((10, 10), int)
    truth[0:4, 0:4] = 1  # 16 px
    truth[6:10, 6:10] = 2  # 16 px
    return truth


def test_perfect_prediction_with_other_label_names():
    truth = _scene()
    pred = np.select([truth == 1, truth == 2], [5, 3], 0)
    assert matched_iou(truth, pred, num_layers=7) == (1.0, 1.0)
    assert msc_fg(truth, pred) == 1.0


def test_more_predicted_slots_than_objects_and_empty_slots():
    truth = _scene()
    pred = np.select([truth == 1, truth == 2], [1, 2], 0)
    pred[0, 9] = 4  # a stray one-pixel slot on the background
    # background: 67/68 matched; objects: 1, 1; the stray slot is a fourth pair with IoU 0.
    miou_fg, miou = matched_iou(truth, pred, num_layers=11)  # 10 slots, most empty
    assert miou_fg == pytest.approx(2 / 3)
    assert miou == pytest.approx((67 / 68 + 2) / 4)
    assert matched_iou(truth, pred, num_layers=0) == (miou_fg, miou)


def test_half_covered_object_and_missed_object():
    truth = _scene()
    pred = np.zeros_like(truth)
    pred[0:4, 0:2] = 1  # half of object 1, object 2 missed entirely
    miou_fg, miou = matched_iou(truth, pred, num_layers=3)
    # pairs: background (IoU 68/76... background true = 68 px, pred bg = 92 px, inter 68)
    bg_iou = 68 / 92
    assert miou_fg == pytest.approx((0.5 + 0.0) / 2)
    assert miou == pytest.approx((bg_iou + 0.5) / 3)
    assert msc_fg(truth, pred) == pytest.approx((0.5 + 16 / 92) / 2)  # object 2's best: bg


def test_object_split_in_two():
    truth = _scene()
    pred = np.select([truth == 1, truth == 2], [1, 2], 0)
    pred[6:10, 8:10] = 3
    miou_fg, _ = matched_iou(truth, pred, num_layers=4)
    assert miou_fg == pytest.approx((1.0 + 0.5 + 0.0) / 3)  # slot 3 pairs with nothing
    assert msc_fg(truth, pred) == pytest.approx(0.75)


def test_all_background_image():
    truth = np.zeros((5, 5), int)
    miou_fg, miou = matched_iou(truth, np.zeros_like(truth), num_layers=5)
    assert math.isnan(miou_fg) and miou == 1.0
    assert math.isnan(msc_fg(truth, np.zeros_like(truth)))
    pred = np.zeros_like(truth)
    pred[0, 0] = 1  # a false object on an empty image
    miou_fg, miou = matched_iou(truth, pred)
    assert miou_fg == 0.0 and miou == pytest.approx((24 / 25) / 2)


def test_single_object_filling_the_image():
    truth = np.ones((4, 4), int)
    assert matched_iou(truth, np.full_like(truth, 2), num_layers=3) == (1.0, 1.0)


def _clevrtex_reference(truth: np.ndarray, pred: np.ndarray, layers: int) -> tuple[float, float]:
    """Per-pair transcription of the benchmark: one mask per label value, padded to one
    size, IoU 0 for empty masks, Hungarian on true x pred, pairs = either mask non-empty."""
    size = max(int(truth.max()) + 1, layers)
    iou = np.zeros((size, size))
    for t in range(size):
        for p in range(size):
            a, b = truth == t, pred == p
            if a.any() and b.any():
                iou[t, p] = (a & b).sum() / (a | b).sum()
    rows, cols = linear_sum_assignment(iou, maximize=True)
    ious = iou[rows, cols]
    pairs = sum((truth == r).any() or (pred == c).any() for r, c in zip(rows, cols, strict=True))
    return ious[1:].sum() / (pairs - 1), ious.sum() / pairs


def test_matches_benchmark_procedure_on_random_maps():
    rng = np.random.default_rng(3)
    for _ in range(40):
        truth = rng.integers(0, rng.integers(2, 6), size=(12, 12))
        pred = np.where(rng.random((12, 12)) < 0.7, truth, rng.integers(0, 7, size=(12, 12)))
        expected = _clevrtex_reference(truth, pred, 7)
        assert matched_iou(truth, pred, num_layers=7) == pytest.approx(expected, abs=1e-12)


def test_mse_sums_over_pixels_and_channels():
    image = np.full((2, 4, 4, 3), 255, np.uint8)
    recon = np.full((2, 4, 4, 3), 0.5, np.float32)
    recon[1] = 1.0
    np.testing.assert_allclose(mse(image, recon), [48 * 0.25, 0.0])
    assert float(mse(image[0], recon[0])) == pytest.approx(12.0)
    with pytest.raises(ValueError, match="shape"):
        mse(image, recon[:, :2])


def test_predicted_labels_must_be_layer_indices():
    with pytest.raises(ValueError, match="layer indices"):
        matched_iou(np.zeros((2, 2), int), np.full((2, 2), -1))
