"""CDnet precision/recall/F with its label conventions, and identity switches on video."""

import math

import numpy as np
import pytest

from training.metrics import ChangeCounts, IdentityCounter, change_counts, identity_scores


def test_cdnet_counts_follow_label_conventions():
    labels = np.array([[255, 255, 255, 0], [0, 50, 50, 85], [170, 170, 85, 0]], np.uint8)
    pred = np.array([[1, 1, 0, 1], [0, 1, 0, 1], [1, 0, 1, 0]], bool)
    counts = change_counts(pred, labels)
    # moving: 3 px (2 hit); static incl. shadow: 5 px (2 flagged); 85/170 ignored.
    assert counts == ChangeCounts(tp=2, fp=2, fn=1, tn=3)
    assert counts.precision == pytest.approx(0.5)
    assert counts.recall == pytest.approx(2 / 3)
    assert counts.f_measure == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert counts.pwc == pytest.approx(100 * 3 / 8)


def test_cdnet_counts_add_over_frames():
    a, b = ChangeCounts(1, 2, 3, 4), ChangeCounts(10, 0, 0, 5)
    total = a + b
    assert total == ChangeCounts(11, 2, 3, 9)
    assert total.f_measure == pytest.approx(2 * 11 / (2 * 11 + 2 + 3))


def test_cdnet_undefined_and_zero_cases():
    assert math.isnan(ChangeCounts(0, 0, 0, 10).precision)
    assert ChangeCounts(0, 5, 5, 0).f_measure == 0.0


def _frames(ids_per_frame: list[dict[int, slice]], width: int = 30) -> list[np.ndarray]:
    frames = []
    for objects in ids_per_frame:
        frame = np.zeros((4, width), int)
        for obj, cols in objects.items():
            frame[:, cols] = obj
        frames.append(frame)
    return frames


A, B = slice(0, 10), slice(15, 25)


def test_perfect_tracking():
    truth = _frames([{1: A, 2: B}] * 5)
    pred = _frames([{7: A, 9: B}] * 5)
    scores = identity_scores(truth, pred)
    assert scores.id_switches == 0
    assert scores.objects == 2 and scores.object_frames == 10
    assert scores.matched_share == 1.0
    assert scores.single_id_share == 1.0 and scores.fully_tracked_share == 1.0


def test_swapped_ids_count_two_switches():
    truth = _frames([{1: A, 2: B}] * 4)
    pred = _frames([{7: A, 9: B}] * 2 + [{9: A, 7: B}] * 2)
    scores = identity_scores(truth, pred)
    assert scores.id_switches == 2
    assert scores.switches_per_100_frames == pytest.approx(50.0)
    assert scores.single_id_share == 0.0


def test_gap_then_same_id_is_no_switch_but_new_id_is():
    truth = _frames([{1: A, 2: B}] * 4)
    pred = _frames([{7: A, 9: B}, {9: B}, {7: A, 9: B}, {5: A, 9: B}])
    scores = identity_scores(truth, pred)
    assert scores.id_switches == 1  # object 1: 7, (missed), 7, 5
    assert scores.matched_share == pytest.approx(7 / 8)
    assert scores.single_id_share == pytest.approx(0.5)  # object 2 only
    assert scores.fully_tracked_share == pytest.approx(0.5)


def test_extra_tracks_and_low_iou_are_not_matches():
    truth = _frames([{1: A}] * 3)
    pred = _frames([{7: slice(0, 4), 8: slice(4, 10), 9: B}] * 3)  # object split: IoU 0.6/0.4
    scores = identity_scores(truth, pred)
    assert scores.matched_share == 1.0 and scores.id_switches == 0
    pred = _frames([{7: slice(0, 4), 8: slice(4, 8), 9: B}] * 3)  # best IoU 0.4 < 0.5
    scores = identity_scores(truth, pred)
    assert scores.matched_share == 0.0 and scores.single_id_share == 0.0


def test_all_background_video():
    truth = _frames([{}] * 3)
    scores = identity_scores(truth, truth)
    assert scores.objects == 0 and scores.id_switches == 0
    assert math.isnan(scores.single_id_share) and scores.switches_per_100_frames == 0.0


def test_counter_streams_like_the_batch_function():
    truth = _frames([{1: A, 2: B}] * 3)
    pred = _frames([{7: A}, {8: A, 9: B}, {7: A, 9: B}])
    counter = IdentityCounter()
    for t, p in zip(truth, pred, strict=True):
        counter.update(t, p)
    assert counter.result() == identity_scores(truth, pred)
    assert counter.result().id_switches == 2
