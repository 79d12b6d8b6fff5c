"""Tracking metrics (HOTA, CLEAR, Identity by TrackEval, on mask IoU) on tiny sequences
with answers worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from training.evaluation.tracking_metrics import TrackingAccumulator, mask_ious


def square(labels: dict[int, tuple[int, int]], size: int = 4) -> np.ndarray:
    """A 20x40 label map with a size x size square of each label at its (y, x)."""
    out = np.zeros((20, 40), np.int32)
    for label, (y, x) in labels.items():
        out[y : y + size, x : x + size] = label
    return out


def scored(frames: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    acc = TrackingAccumulator()
    for truth, predicted in frames:
        acc.update(truth, predicted)
    return acc.result()


def test_mask_ious_are_exact_and_skip_background():
    truth = square({1: (0, 0), 2: (10, 10)})
    predicted = np.zeros_like(truth)
    predicted[0:4, 2:6] = 9  # half of object 1 plus 8 pixels of its own
    gt, pr, iou = mask_ious(truth, predicted)
    assert gt.tolist() == [1, 2] and pr.tolist() == [9]
    assert iou[:, 0] == pytest.approx([8 / 24, 0.0])


def test_a_perfect_tracker_scores_one_everywhere():
    truth = [square({1: (2, t), 5: (12, 30 - t)}) for t in range(6)]
    r = scored([(g, g * 3) for g in truth])  # other ID numbers, the same tracks
    assert r["hota"] == r["deta"] == r["assa"] == r["idf1"] == r["mota"] == 1.0
    assert r["id_switches"] == 0
    assert r["objects_per_frame"] == r["true_objects_per_frame"] == 2.0


def test_one_id_switch():
    """One object, 4 frames, perfect masks; the track ID changes from 1 to 2 half way.
    MOTA = (TP - FP - IDSW) / GT = (4 - 0 - 1) / 4. IDF1: the best ID pairing keeps 2 of
    4 frames, so IDTP = IDFN = IDFP = 2 and IDF1 = 2*2 / (2*2 + 2 + 2) = 0.5. HOTA: every
    detection matches (DetA 1); each match's association is 2 / (2 + 2 missed) = 0.5, so
    HOTA = sqrt(1 * 0.5)."""
    truth = [square({1: (5, 2 * t)}) for t in range(4)]
    frames = [(g, np.where(g > 0, 1 if t < 2 else 2, 0)) for t, g in enumerate(truth)]
    r = scored(frames)
    assert r["id_switches"] == 1 and r["id_switches_per_100"] == 25.0
    assert r["mota"] == pytest.approx(0.75)
    assert r["idf1"] == pytest.approx(0.5)
    assert r["deta"] == pytest.approx(1.0) and r["assa"] == pytest.approx(0.5)
    assert r["hota"] == pytest.approx(np.sqrt(0.5), abs=1e-4)


def test_a_missed_object_lowers_deta():
    """Two objects, 4 frames; the second is missed in the last two. DetA = 6 / (6 + 2);
    AssA: object 1's 4 matches score 1, object 2's 2 matches 2 / (2 + 2) = 0.5, mean 5/6.
    MOTA = 6 / 8; IDF1 = 2*6 / (2*6 + 2 + 0)."""
    frames = []
    for t in range(4):
        truth = square({1: (2, 3 * t), 2: (12, 30 - 3 * t)})
        frames.append((truth, np.where((truth == 2) & (t >= 2), 0, truth)))
    r = scored(frames)
    assert r["deta"] == pytest.approx(0.75)
    assert r["assa"] == pytest.approx(5 / 6, abs=1e-4)
    assert r["hota"] == pytest.approx(np.sqrt(0.75 * 5 / 6), abs=1e-4)
    assert r["mota"] == pytest.approx(0.75) and r["idf1"] == pytest.approx(12 / 14, abs=1e-4)
    assert r["objects_per_frame"] == 1.5 and r["true_objects_per_frame"] == 2.0


def test_hota_averages_over_localisation_thresholds():
    """IoU 0.5 matches at the 10 thresholds 0.05 .. 0.50 of 19 and at none above."""
    truth = square({1: (4, 4)})
    predicted = np.zeros_like(truth)
    predicted[4:6, 4:8] = 1  # 8 of the 16 pixels, nothing outside: IoU 0.5
    r = scored([(truth, predicted)])
    assert r["hota"] == pytest.approx(10 / 19, abs=1e-4)
    assert r["mota"] == pytest.approx(1.0)  # CLEAR matches at IoU >= 0.5


def test_false_positives_count_on_frames_without_objects():
    empty = np.zeros((20, 40), np.int32)
    r = scored([(empty, square({4: (0, 0)})), (square({1: (0, 0)}), square({4: (0, 0)}))])
    assert r["mota"] == pytest.approx((1 - 1) / 1)
    assert r["objects_per_frame"] == 1.0 and r["true_objects_per_frame"] == 0.5
    assert TrackingAccumulator().result()["hota"] is None
