"""The slot model's word on what is an object (sdk.fixed_camera.slot_evidence): a blob no
slot claims, on a frame with a slot to spare, in a stream whose slots explain most of the
foreground, is not reported unless a slot once claimed its track or it moves steadily."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sdk.fixed_camera.fused import FusedLabels, FusedObject, measure_labels
from sdk.fixed_camera.object_tracks import ObjectTracks
from sdk.fixed_camera.slot_evidence import SHARE_FRAMES, SlotEvidence
from sdk.tracker import Observation, Tracker, TrackerConfig

H, W = 120, 200


def _object(label: int, slot: int, area: int) -> FusedObject:
    return FusedObject(label, slot, area, (0, 0, 1, 1), (0.0, 0.0))


def test_an_unclaimed_blob_is_declined_only_when_the_model_had_a_slot_to_spare() -> None:
    car, speck = _object(1, 0, 900), _object(2, -1, 100)  # slots claim 90 % of the pixels
    evidence = SlotEvidence()
    assert evidence.declined([car, speck], [7, 8], 2, 0.6) == [False, True]
    assert evidence.share == pytest.approx(0.9)
    busy = SlotEvidence()  # every slot owns an object: the rest may be objects too
    assert busy.declined([car, speck], [7, 8], 1, 0.6) == [False, False]
    assert SlotEvidence().declined([car, speck], [7, 8], 0, 0.6) == [False, False]  # no model
    assert SlotEvidence().declined([car, speck], [7, 8], 2, 0.0) == [False, False]  # off
    assert SlotEvidence().declined([car, speck], [7, 8], 2, 0.6, steady={8}) == [False, False]


def test_a_track_a_slot_claimed_once_stays_the_models_object() -> None:
    evidence = SlotEvidence()
    evidence.declined([_object(1, 0, 900), _object(2, 1, 100)], [7, 8], 3, 0.6)
    # next frame the slot lets go of track 8: still not declined; a new blob is
    assert evidence.declined(
        [_object(1, 0, 900), _object(2, -1, 100), _object(3, -1, 50)], [7, 8, 9], 3, 0.6
    ) == [False, False, True]


def test_a_model_that_does_not_know_the_scene_declines_nothing() -> None:
    """The shipped model on the real crowd claims about a third of the foreground: below
    the share, the motion rules decide alone, whatever the slots do."""
    evidence = SlotEvidence()
    for _ in range(10):
        got = evidence.declined([_object(1, 0, 300), _object(2, -1, 700)], [1, 2], 4, 0.6)
        assert got == [False, False]
    assert evidence.share == pytest.approx(0.3)


def test_the_share_is_a_running_mean_that_forgets_and_resets() -> None:
    evidence = SlotEvidence()
    for _ in range(SHARE_FRAMES):  # a scene the slots explained, for a while
        evidence.declined([_object(1, 0, 100)], [1], 2, 0.6)
    assert evidence.share == pytest.approx(1.0)
    for _ in range(3 * SHARE_FRAMES):  # then one they do not: the mean follows it
        evidence.declined([_object(1, -1, 100)], [2], 2, 0.6)
    expected = (1 - 1 / SHARE_FRAMES) ** (3 * SHARE_FRAMES)
    assert evidence.share == pytest.approx(expected, rel=1e-9)
    evidence.declined([], [], 2, 0.6)  # a frame without foreground changes nothing
    assert evidence.share == pytest.approx(expected, rel=1e-9)
    evidence.reset()
    assert evidence.share == 0.0
    assert evidence.declined([_object(1, 0, 9), _object(2, -1, 1)], [2, 3], 2, 0.6) == [
        False,
        True,  # track 2 was claimed before the reset only
    ]


def _disc(x: float, y: float, r: float) -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    cv2.circle(mask, (round(x), round(y)), round(r), 1, -1)
    return mask.astype(bool)


def _observe(obj: FusedObject, labels: np.ndarray) -> Observation:
    x0, y0, x1, y1 = obj.bbox
    return Observation(
        position=np.array(
            [(obj.centroid[0] + 0.5) / W * 2 - 1, (obj.centroid[1] + 0.5) / H * 2 - 1]
        ),
        size=np.array([2.0 * (x1 - x0) / W, 2.0 * (y1 - y0) / H]),
        appearance=np.zeros(0),
    )


def _frame(car: np.ndarray, speck: np.ndarray) -> FusedLabels:
    """A car slot 0 claims and a speck no slot claims."""
    labels = np.zeros((H, W), np.uint8)
    labels[car], labels[speck] = 1, 2
    return FusedLabels(labels, measure_labels(labels, {1: 0}))


def _speck_at(t: int) -> np.ndarray:
    """A speck that flickers on a branch: it jumps 3 px right, then back, and so on (its
    first jump is enough for `moved`, a coherent path it never has)."""
    return _disc(150 + 3 * (t % 2), 20, 6)


@pytest.mark.parametrize("share", [0.6, 0.0])
def test_a_speck_the_slots_decline_is_not_reported_where_the_rule_is_on(share: float) -> None:
    tracks = ObjectTracks(Tracker(TrackerConfig(min_travel=0.02, slot_evidence_share=share)))
    speck_reported = False
    for t in range(30):
        car, speck = _disc(30 + 3 * t, 80, 15), _speck_at(t)
        fused, ids = tracks.update(_frame(car, speck), _observe, num_slots=2)
        speck_reported |= bool(fused.labels[speck].any())
        assert fused.labels[car].all() == (t >= 2)  # the car: confirmed on its third frame
    speck_track = max(tracks.tracker.tracks, key=lambda track: track.id)
    assert speck_track.moved and speck_track.confirmed  # the motion rules alone let it out
    assert speck_reported == (share == 0.0)


def test_an_unclaimed_object_that_moves_steadily_is_reported_after_its_steady_frames() -> None:
    steady = 5
    config = TrackerConfig(min_travel=0.02, unclaimed_steady_frames=steady)
    tracks = ObjectTracks(Tracker(config))
    first = None
    for t in range(20):
        car, walker = _disc(30 + 3 * t, 80, 15), _disc(185 - 4 * t, 25, 8)  # slot 0 / none
        fused, ids = tracks.update(_frame(car, walker), _observe, num_slots=2)
        if first is None and fused.labels[walker].any():
            first = t
    walker_track = max(tracks.tracker.tracks, key=lambda track: track.id)
    # 4 px a frame = 0.04 model units: moved-worthy from its second sight (t = 1), so
    # steady reaches `steady` at t = steady, long after it was confirmed (t = 2)
    assert walker_track.steady == 19 and first == steady


def test_steady_counts_coherent_moves_in_a_row_and_a_jitter_resets_it() -> None:
    tracker = Tracker(TrackerConfig(min_travel=0.05, min_hits=1, size_gate=0.0))
    obs = lambda x: Observation(np.array([x, 0.0]), np.array([0.1, 0.1]), np.zeros(0))  # noqa: E731
    path = [0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.02, 0.12]  # a jump back, then on again
    counts = []
    for x in path:
        tracker.update([obs(x)])
        counts.append(tracker.tracks[0].steady)
    # moved-worthy from 0.06 (travel ≥ 0.05); the jump back to 0.02 is under min_travel; at
    # 0.12 the way taken (0.28) is over twice the travel (0.12): not coherent either
    assert counts == [0, 0, 0, 1, 2, 3, 0, 0]
    assert tracker.tracks[0].moved  # the latch stays


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slot_evidence_share", -0.1),
        ("slot_evidence_share", 1.5),
        ("slot_evidence_share", float("nan")),
        ("unclaimed_steady_frames", 0),
    ],
)
def test_bad_slot_evidence_settings_are_refused_in_one_sentence(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        TrackerConfig(**{field: value})
