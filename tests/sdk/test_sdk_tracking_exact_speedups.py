"""The tracking stage was made cheaper at 40 objects without changing a result: the split
counts only the masks near shared blobs, in uint8 histograms and a uint8 owner map, and
keeps a running nearest mask; the tracker predicts every track at once; the assignment
matches a row whose cheapest column is free without the general search; the masks are
moved in scalars. Each is held to the plain computation it replaced, on random crowded
scenes where blobs cover two or three tracked objects."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from reference_track_split import reference_split_by_tracks

from sdk.fixed_camera.object_tracks import ObjectTracks
from sdk.fixed_camera.track_split import PredictedMask, split_by_tracks
from sdk.tracker import _FORBIDDEN, Observation, Track, Tracker, TrackerConfig


def crowd(seed: int, height: int = 120, width: int = 160, objects: int = 30):
    """A label map of discs, some joined into one blob, its boxes, and each disc's mask
    moved a few pixels (the tracks' predicted masks), some off the frame's edge."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((height, width), np.uint8)
    predicted = []
    label = 0
    for k in range(objects):
        if k == 0 or rng.random() > 0.4:  # else: joins the last blob (touching objects)
            label += 1
        cx, cy = rng.uniform(-5, width + 5), rng.uniform(-5, height + 5)
        r = rng.uniform(3, 12)
        disc = np.zeros((height, width), np.uint8)
        cv2.circle(disc, (int(cx), int(cy)), int(r), 1, -1)
        labels[disc > 0] = label
        ys, xs = np.nonzero(disc)
        if not len(ys):
            continue
        y0, x0 = ys.min(), xs.min()
        crop = disc[y0 : ys.max() + 1, x0 : xs.max() + 1] > 0
        dx, dy = (int(v) for v in rng.integers(-3, 4, 2))
        predicted.append(PredictedMask(int(x0) + dx, int(y0) + dy, crop))
    boxes = {}
    for value in np.unique(labels)[1:]:
        ys, xs = np.nonzero(labels == value)
        boxes[int(value)] = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return labels, boxes, predicted


@pytest.mark.parametrize("share", [0.3, 0.6])
def test_split_equals_the_plain_loop_on_crowded_scenes(share):
    splits = 0
    for seed in range(40):
        labels, boxes, predicted = crowd(seed)
        before = labels.copy()
        fast, fast_cut = split_by_tracks(labels, boxes, predicted, share)
        slow, slow_cut = reference_split_by_tracks(labels, boxes, predicted, share)
        assert np.array_equal(fast, slow) and fast_cut == slow_cut
        assert list(fast_cut) == list(slow_cut)  # the same new labels, in the same order
        assert np.array_equal(labels, before)  # the caller's map is left as it was
        splits += len(fast_cut)
    assert splits > 20  # the scenes do make the split divide blobs


def test_split_edge_cases_equal_the_plain_loop():
    labels, boxes, predicted = crowd(3)
    for masks in ([], predicted[:1], predicted[:2]):
        fast = split_by_tracks(labels, boxes, masks, 0.3)
        slow = reference_split_by_tracks(labels, boxes, masks, 0.3)
        assert np.array_equal(fast[0], slow[0]) and fast[1] == slow[1]
    empty = np.zeros_like(labels)
    assert split_by_tracks(empty, {}, predicted, 0.3)[1] == {}


def reference_costs(tracker: Tracker, observations: list[Observation]) -> np.ndarray:
    """Tracker._costs computed plainly: each track's Track.predicted(), one by one, and a
    tentative track's extra cost added to its allowed pairs."""
    c = tracker.config
    tracks = tracker.tracks
    predicted = np.array([t.predicted() for t in tracks], dtype=np.float64)
    radius = np.full(len(tracks), c.gate_distance, dtype=np.float64)  # no widening while lost
    positions = np.array([o.position for o in observations], dtype=np.float64)
    distance = np.linalg.norm(predicted[:, None] - positions[None], axis=2) / radius[:, None]
    ts = np.maximum(np.array([t.size for t in tracks]), 1e-6)
    os_ = np.maximum(np.array([o.size for o in observations]), 1e-6)
    size = np.abs(np.log(os_[None] / ts[:, None])).mean(axis=2) / math.log(2.0)
    a = np.array([t.appearance for t in tracks])
    b = np.array([o.appearance for o in observations])
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    ok = (na[:, None] > 1e-12) & (nb[None, :] > 1e-12)
    cos = (a @ b.T) / np.maximum(na[:, None] * nb[None, :], 1e-12)
    appearance = np.where(ok, (1.0 - cos) / 2.0, 0.0)
    total = c.position_weight * distance + c.size_weight * size + c.appearance_weight * appearance
    extra = np.array([[0.0 if t.confirmed else c.tentative_cost] for t in tracks])
    allowed = (distance <= 1.0) & (total <= c.max_cost)
    for i, t in enumerate(tracks):  # the size gate, pair by pair
        for j in range(len(observations)):
            extent = max(float(np.max(ts[i])), float(np.max(os_[j])))
            reach = c.size_gate * extent * (min(t.lost + 1, c.size_gate_growth) if t.moved else 1)
            allowed[i, j] &= c.size_gate <= 0 or distance[i, j] * radius[i] <= reach
    return np.where(allowed, total + extra, _FORBIDDEN)


def test_tracker_costs_and_motion_equal_the_per_track_computation():
    rng = np.random.default_rng(5)
    tracker = Tracker(TrackerConfig())
    positions = rng.uniform(-1, 1, (40, 2))
    velocity = rng.normal(0, 0.01, (40, 2))
    for t in range(12):
        keep = rng.random(40) > 0.15  # some objects missed: tracks coast (lost > 0)
        observations = [
            Observation(positions[k] + velocity[k] * t, np.array([0.1, 0.2]), rng.normal(0, 1, 8))
            for k in np.flatnonzero(keep)
        ]
        if tracker.tracks:
            assert np.array_equal(
                tracker._costs(observations), reference_costs(tracker, observations)
            )
        tracker.update(observations)
    assert any(track.lost for track in tracker.tracks)
    for track in tracker.tracks:  # moved is set once travel reaches min_travel, and stays
        travel = np.linalg.norm(track.position - track.origin)
        assert track.moved or travel < tracker.config.min_travel


def test_assignment_equals_the_per_column_steps_ties_included():
    from reference_assignment import reference_linear_sum_assignment

    from sdk.assignment import linear_sum_assignment

    rng = np.random.default_rng(11)
    for i in range(240):
        n, m = (int(v) for v in rng.integers(1, 24 if i % 8 else 45, 2))
        if i % 3 == 0:
            cost = rng.random((n, m))
        elif i % 3 == 1:
            cost = rng.integers(0, 4, (n, m)).astype(float)  # many ties
        else:  # gated, as the tracker's: most pairs forbidden
            cost = rng.random((n, m)) * 1.5
            cost[rng.random((n, m)) > 0.15] = _FORBIDDEN
        fast, slow = linear_sum_assignment(cost), reference_linear_sum_assignment(cost)
        assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])


def test_split_with_more_masks_than_a_byte_holds_equals_the_plain_loop():
    """Past 255 predicted masks the split's owner map is wider than uint8."""
    splits = 0
    for seed in range(2):
        labels, boxes, predicted = crowd(seed, height=300, width=400, objects=300)
        assert len(predicted) > 255
        fast, fast_cut = split_by_tracks(labels, boxes, predicted, 0.3)
        slow, slow_cut = reference_split_by_tracks(labels, boxes, predicted, 0.3)
        assert np.array_equal(fast, slow) and list(fast_cut.items()) == list(slow_cut.items())
        splits += len(fast_cut)
    assert splits > 5


def test_predicted_masks_move_as_the_array_computation():
    """ObjectTracks moves each confirmed track's mask by round(velocity × frames since seen ×
    half the frame size), as the per-track array product did, halves rounded to even."""
    rng = np.random.default_rng(7)
    tracker = Tracker(TrackerConfig(split_memory=3))
    tracks = ObjectTracks(tracker)
    width, height = 256, 120
    for i in range(60):
        velocity = rng.normal(0, 0.05, 2)
        if i % 4 == 0:  # moves of exactly half a pixel: rounding to even, as round() does
            velocity = np.array([2.5 / (width / 2.0), -1.5 / (height / 2.0)])
        track = Track(
            id=i + 1,
            position=np.zeros(2),
            size=np.ones(2),
            appearance=np.zeros(0),
            velocity=velocity,
            lost=int(rng.integers(0, 4)),
            confirmed=bool(rng.random() > 0.2),
        )
        tracker.tracks.append(track)
        tracks._masks[track.id] = PredictedMask(
            int(rng.integers(-20, 200)), int(rng.integers(-20, 100)), rng.random((9, 7)) > 0.5
        )
    expected = []
    for track in tracker.tracks:
        if track.confirmed and track.lost < 3:
            shift = track.velocity * (track.lost + 1) * np.array([width / 2.0, height / 2.0])
            dx, dy = (int(round(float(v))) for v in shift)
            mask = tracks._masks[track.id]
            expected.append((mask.x0 + dx, mask.y0 + dy, mask.mask))
    moved = [p for _, p in tracks._predicted(width, height)]
    assert [(p.x0, p.y0) for p in moved] == [(x, y) for x, y, _ in expected]
    assert all(p.mask is m for p, (_, _, m) in zip(moved, expected, strict=True))
