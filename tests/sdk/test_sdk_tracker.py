"""Tracker: IDs survive shuffled slots, a crossing, a brief occlusion; new objects get new IDs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from sdk_media import scene

from sdk import Segmenter, Tracker, TrackerConfig
from sdk.tracker import Observation


def _obs(x: float, y: float, appearance: list[float], size: float = 0.2) -> Observation:
    return Observation(np.array([x, y]), np.array([size, size]), np.array(appearance, dtype=float))


def _run(
    frames: list[list[tuple[str, Observation]]], tracker: Tracker, seed: int = 0
) -> dict[str, list[int]]:
    """Feed frames with the slot order shuffled; return the IDs each named object received."""
    rng = np.random.default_rng(seed)
    seen: dict[str, list[int]] = {}
    for items in frames:
        order = rng.permutation(len(items))
        shuffled = [items[i] for i in order]
        ids = tracker.update([obs for _, obs in shuffled])
        for (name, _), track_id in zip(shuffled, ids, strict=True):
            seen.setdefault(name, []).append(track_id)
    return seen


def test_crossing_occlusion_and_a_newcomer() -> None:
    rng = np.random.default_rng(1)
    frames = []
    for i in range(60):
        t = i / 59
        noise = rng.normal(0, 0.004, 4)
        items = [("a", _obs(-0.8 + 1.6 * t + noise[0], 0.0 + noise[1], [1, 0, 0, 0.2]))]
        if not 27 <= i <= 32:  # b is hidden behind a around the crossing
            items.append(
                ("b", _obs(0.8 - 1.6 * t + noise[2], 0.04 + noise[3], [0, 1, 0, 0.2], 0.25))
            )
        if i >= 40:
            items.append(("c", _obs(0.5, -0.6, [0, 0, 1, 0.2], 0.1)))
        frames.append(items)
    seen = _run(frames, Tracker())
    assert len(set(seen["a"])) == 1 and len(seen["a"]) == 60
    assert len(set(seen["b"])) == 1 and len(seen["b"]) == 54  # same ID after the occlusion
    assert set(seen["a"]) | set(seen["b"]) == {1, 2}
    assert set(seen["c"]) == {3}
    switches = sum(len(set(ids)) - 1 for ids in seen.values())
    assert switches == 0


def test_motion_alone_separates_a_crossing() -> None:
    """With identical appearance, the constant-velocity prediction keeps the IDs apart."""
    frames = []
    for i in range(40):
        x = -0.6 + 0.03 * i
        frames.append([("a", _obs(x, 0.0, [1, 1])), ("b", _obs(-x, 0.03, [1, 1]))])
    seen = _run(frames, Tracker(TrackerConfig(appearance_weight=0.0)), seed=4)
    assert len(set(seen["a"])) == 1 and len(set(seen["b"])) == 1
    assert set(seen["a"]) != set(seen["b"])


def test_lost_tracks_expire_after_max_lost_frames() -> None:
    tracker = Tracker(TrackerConfig(max_lost_frames=5))
    here = [_obs(0.1, 0.1, [1, 0])]
    for _ in range(3):  # confirmed: only a confirmed track coasts
        assert tracker.update(here) == [1]
    for _ in range(3):
        assert tracker.update([]) == []
    assert tracker.update(here) == [1]  # back within 5 frames: same object
    for _ in range(6):
        tracker.update([])
    assert tracker.tracks == []
    assert tracker.update(here) == [2]  # gone longer than 5 frames: a new object
    tracker.reset()
    assert tracker.update(here) == [1]


def test_tentative_tracks_are_not_reported_until_confirmed() -> None:
    """A track is reported after min_hits frames; a tentative one that misses a frame dies."""
    tracker = Tracker(TrackerConfig(min_hits=3))
    moving = [[_obs(-0.5 + 0.05 * i, 0.0, [1, 0])] for i in range(4)]
    reported = []
    for obs in moving:
        (track_id,) = tracker.update(obs)
        reported.append(tracker.reportable(track_id))
    assert reported == [False, False, True, True]
    (blip,) = tracker.update(moving[-1] + [_obs(0.6, 0.6, [0, 1])])[1:]
    assert not tracker.reportable(blip)
    tracker.update([])  # the blip misses a frame: forgotten; the confirmed track coasts
    assert [t.id for t in tracker.tracks] == [1]


def test_a_track_that_never_moved_is_scene_not_object() -> None:
    """Never moving min_travel from where it was first seen: not reported, whether present
    from the first frame (a spot the background model gets wrong) or appearing later (a
    leaf that flickers in place). A car that arrives and parks moved to get there: reported,
    and still reported while it stands. The still one is reported once it moves."""
    tracker = Tracker(TrackerConfig(min_hits=2, min_travel=0.05))
    speck, flicker = _obs(0.5, 0.5, [1, 0]), _obs(-0.5, 0.5, [0.5, 0.5])
    for _ in range(20):
        speck_id = tracker.update([speck])[0]
        assert not tracker.reportable(speck_id)
    for i in range(4):  # arriving from the left, 0.03 a frame
        ids = tracker.update([speck, flicker, _obs(-0.7 + 0.03 * i, -0.5, [0, 1])])
    for _ in range(10):  # parked
        ids = tracker.update([speck, flicker, _obs(-0.58, -0.5, [0, 1])])
    assert [tracker.reportable(i) for i in ids] == [False, False, True]
    ids = tracker.update([_obs(0.56, 0.5, [1, 0]), flicker, _obs(-0.58, -0.5, [0, 1])])
    assert [tracker.reportable(i) for i in ids] == [True, False, True]


@pytest.mark.parametrize(
    ("still_is_scene", "first_frame", "reported"),
    [(True, True, [False, False]), (False, True, [False, True]), (False, False, [True, True])],
)
def test_which_still_tracks_are_scene_is_a_setting(
    still_is_scene: bool, first_frame: bool, reported: list[bool]
) -> None:
    """still_is_scene False keeps only the first-frame rule (or none: image sets)."""
    config = TrackerConfig(
        min_hits=2, still_is_scene=still_is_scene, first_frame_still_is_scene=first_frame
    )
    tracker = Tracker(config)
    tracker.update([_obs(0.5, 0.5, [1, 0])])
    for _ in range(3):
        ids = tracker.update([_obs(0.5, 0.5, [1, 0]), _obs(-0.5, -0.5, [0, 1])])
    assert [tracker.reportable(i) for i in ids] == reported


def test_the_size_gate_keeps_a_speck_from_hopping_but_not_an_object_from_moving() -> None:
    """Two tracks seen four frames, then each observation 0.12 away from its prediction: the
    0.1-wide speck's gate is 0.05 (size_gate 0.5 × its extent), so it is a new track; the
    0.6-wide object's is 0.3, so it keeps its ID. A speck missed for a frame has twice the
    gate when it has moved (a still one's does not grow); size_gate 0 is the absolute gate
    alone."""
    for size_gate, speck_kept in ((0.5, False), (0.0, True)):
        tracker = Tracker(TrackerConfig(size_gate=size_gate))
        for _ in range(4):
            speck, car = tracker.update(
                [_obs(-0.5, 0.0, [1, 0], size=0.1), _obs(0.5, 0.0, [0, 1], size=0.6)]
            )
        ids = tracker.update(
            [_obs(-0.38, 0.0, [1, 0], size=0.1), _obs(0.62, 0.0, [0, 1], size=0.6)]
        )
        assert (ids[0] == speck) == speck_kept and ids[1] == car
    for step, kept in ((0.0, False), (0.02, True)):  # still, or moving 0.02 a frame
        tracker = Tracker(TrackerConfig(min_travel=0.03))
        for i in range(4):
            (speck,) = tracker.update([_obs(-0.5 + step * i, 0.0, [1, 0], size=0.1)])
        tracker.update([])
        # 0.08 past its prediction: within 2 × 0.05 once it has moved, not within 0.05
        back = -0.5 + step * 5 + 0.08
        assert (tracker.update([_obs(back, 0.0, [1, 0], size=0.1)]) == [speck]) == kept


def test_far_jumps_and_different_looks_are_new_objects() -> None:
    tracker = Tracker(TrackerConfig(size_gate=0.0))  # the absolute gate alone
    assert tracker.update([_obs(-0.8, -0.8, [1, 0])]) == [1]
    assert tracker.update([_obs(0.8, 0.8, [1, 0])]) == [2]  # beyond the gate
    assert tracker.update([_obs(0.7, 0.8, [1, 0.05])]) == [2]  # a small move, same look
    assert tracker.update([_obs(0.35, 0.8, [-1, 0.05])]) == [3]  # moved and looks opposite
    with pytest.raises(ValueError, match=r"max_lost_frames is -1"):
        TrackerConfig(max_lost_frames=-1)


def test_segmenter_keeps_ids_when_objects_swap_slots(toy_bundle_dir: Path) -> None:
    """The toy encoder orders slots by blob density, so growing blobs swap slots mid-video."""
    seg = Segmenter(toy_bundle_dir)
    ids_by_colour: dict[str, set[int]] = {"red": set(), "green": set()}
    slots_by_colour: dict[str, set[int]] = {"red": set(), "green": set()}
    for i in range(20):
        red_radius, green_radius = 6 + i, 25 - i
        frame = scene(
            120,
            160,
            [(40 + i, 60, red_radius, (0, 0, 255)), (120 - i, 60, green_radius, (0, 255, 0))],
        )
        for obj in seg(frame).objects:
            colour = "red" if obj.z_what[0] > obj.z_what[1] else "green"
            ids_by_colour[colour].add(obj.id)
            slots_by_colour[colour].add(obj.slot)
    assert ids_by_colour == {"red": {1}, "green": {2}} or ids_by_colour == {
        "red": {2},
        "green": {1},
    }
    assert len(slots_by_colour["red"]) == 2  # the model did swap slots; the IDs did not follow


def test_an_object_that_left_the_view_does_not_hand_its_id_to_a_newcomer() -> None:
    """A track predicted wholly outside the frame is forgotten: the next object to enter,
    wherever it enters, is a new object."""
    tracker = Tracker()
    for i in range(8):  # leaves over the right border at 0.1 a frame
        (leaving,) = tracker.update([_obs(0.3 + 0.1 * i, 0.0, [1, 0], size=0.1)])
    for _ in range(3):
        tracker.update([])
    assert tracker.tracks == []  # its prediction is past x = 1: gone, not coasting
    (newcomer,) = tracker.update([_obs(0.8, 0.1, [1, 0], size=0.1)])
    assert newcomer != leaving


@pytest.mark.parametrize("direction", [(1, 0), (-1, 0), (0, 1), (0, -1)])
@pytest.mark.parametrize("extent", [[0.1], [0.1, 0.7]], ids=["glimpse", "box"])
def test_a_track_leaving_over_any_border_is_forgotten_once_wholly_out(
    direction: tuple[int, int], extent: list[float]
) -> None:
    """Forgotten when its predicted box is past the border by its half extent on that axis
    (a glimpse's one extent counts for both), and not a frame before."""
    dx, dy = direction
    half = (extent[0] if dx else extent[-1]) / 2
    tracker = Tracker(TrackerConfig(size_gate=0.0))  # steps longer than the size gate
    for i in range(4):  # moving out at 0.2 a frame, last seen at 0.8 from the centre
        position = np.array([dx, dy]) * (0.2 + 0.2 * i)
        tracker.update([Observation(position, np.array(extent), np.zeros(0))])
    lost = 0
    while tracker.tracks:
        tracker.update([])
        lost += 1
    # predicted at 0.8 + 0.2 × lost: wholly out once 0.8 + 0.2 × lost - half > 1
    assert lost == math.floor((1 + half - 0.8) / 0.2 + 1e-9) + 1


def test_a_coasting_track_keeps_its_gate_around_its_prediction() -> None:
    """The gate does not widen while a track coasts: a newcomer far from where the lost
    object should be is a new object, the lost object coming back where it should be is not."""
    tracker = Tracker(TrackerConfig(max_lost_frames=30))
    for i in range(5):
        (hidden,) = tracker.update([_obs(-0.5 + 0.02 * i, 0.0, [1, 0])])
    for _ in range(10):
        tracker.update([])
    (far,) = tracker.update([_obs(0.3, 0.6, [1, 0])])  # 0.8 from the prediction
    assert far != hidden
    ids = tracker.update([_obs(-0.5 + 0.02 * 16, 0.0, [1, 0]), _obs(0.3, 0.6, [1, 0])])
    assert ids == [hidden, far]


def _coloured(x: float, colour: list[float] | None) -> Observation:
    """No z_what to go by (foreground no slot claims): only position, size and colour."""
    return Observation(
        np.array([x, 0.0]),
        np.array([0.2, 0.2]),
        np.zeros(0),
        None if colour is None else np.array(colour),
    )


@pytest.mark.parametrize("with_colour", [True, False])
def test_two_objects_that_part_where_the_other_was_keep_their_ids_by_colour(
    with_colour: bool,
) -> None:
    """Two still objects side by side, then each seen a little past the other (they passed
    in a frame the camera missed): position alone swaps their IDs, their colour does not."""
    red, blue = [0.6, 0.2, 0.2], [0.2, 0.3, 0.5]
    # each moved 0.65 of its size in the missed frame: past the size gate, which this is not about
    tracker = Tracker(TrackerConfig(min_hits=1, size_gate=0.0))
    first = tracker.update(
        [
            _coloured(-0.05, red if with_colour else None),
            _coloured(0.05, blue if with_colour else None),
        ]
    )
    later = tracker.update(
        [
            _coloured(0.08, red if with_colour else None),
            _coloured(-0.08, blue if with_colour else None),
        ]
    )
    if with_colour:
        assert later == first
    else:
        assert later == first[::-1]  # the case colour is for


def test_a_tracks_colour_is_an_exponential_moving_average_kept_when_unknown() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1, appearance_momentum=0.5))
    tracker.update([_coloured(0.0, [0.6, 0.2, 0.2])])
    tracker.update([_coloured(0.01, [0.4, 0.2, 0.4])])
    np.testing.assert_allclose(tracker.tracks[0].colour, [0.5, 0.2, 0.3])
    tracker.update([_coloured(0.02, None)])  # an observation without colour keeps the track's
    np.testing.assert_allclose(tracker.tracks[0].colour, [0.5, 0.2, 0.3])
    assert [t.id for t in tracker.tracks] == [1]


@pytest.mark.parametrize(
    ("field", "value"),
    [("colour_scale", 0.0), ("colour_scale", float("nan")), ("colour_weight", -1.0)],
)
def test_colour_settings_are_checked(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        TrackerConfig(**{field: value})


def test_a_track_that_jitters_in_place_has_not_moved() -> None:
    """A speck whose position jumps back and forth (0.04 one way, 0.035 back) drifts past
    min_travel 0.03 within a few frames, but by a way many times longer: never reported.
    A track moving 0.02 a frame in one direction is an object once 0.03 from its start."""
    jitter = [0.02] + [-0.035, 0.04] * 10
    for steps, reported in ((jitter, False), ([0.02] * 20, True)):
        tracker = Tracker(TrackerConfig(min_travel=0.03, size_gate=0.0))
        x, seen = 0.0, []
        (first,) = tracker.update([_obs(x, 0.0, [1, 0], size=0.1)])
        for step in steps:
            x += step
            (track_id,) = tracker.update([_obs(x, 0.0, [1, 0], size=0.1)])
            assert track_id == first
            seen.append(tracker.reportable(track_id))
        assert any(seen) == reported


def test_a_steady_run_counts_frames_seen_in_a_row_and_a_missed_frame_breaks_it() -> None:
    """Track.steady (the slot rule's exemption for unclaimed objects) counts updates in a
    row in which the track was seen, moved-worthy and moving: a speck that flickers along a rail is
    seen in some frames only, so a frame without it starts the run again."""
    tracker = Tracker(TrackerConfig(min_travel=0.03, size_gate=0.0))
    (track_id,) = tracker.update([_obs(0.0, 0.0, [1, 0], size=0.1)])
    runs = []
    for frame in range(1, 12):
        if frame in (7, 8):  # not seen in two frames
            assert tracker.update([]) == []
        else:
            assert tracker.update([_obs(0.02 * frame, 0.0, [1, 0], size=0.1)]) == [track_id]
        runs.append(tracker.tracks[0].steady)
    # moved-worthy from 0.04 away (frame 2) on; after the gap the run and the window
    # start again (the first sight after it has no step to measure)
    assert runs == [0, 1, 2, 3, 4, 5, 5, 5, 0, 1, 2]


def test_a_speck_that_hopped_once_and_sits_still_is_not_moving() -> None:
    """Moved-worthy (far from where it was born, by a short way) is not enough for a steady
    run: over its last steady_window sightings the track must have gone steady_move."""
    config = TrackerConfig(min_travel=0.03, size_gate=0.0, steady_window=3, steady_move=0.015)
    tracker = Tracker(config)
    tracker.update([_obs(0.0, 0.0, [1, 0], size=0.1)])
    runs = []
    for x in [0.05, 0.05, 0.055, 0.05, 0.053, 0.05, 0.052]:  # one hop, then it sits
        tracker.update([_obs(x, 0.0, [1, 0], size=0.1)])
        runs.append(tracker.tracks[0].steady)
    assert tracker.tracks[0].moved and runs == [1, 2, 3, 0, 0, 0, 0]  # the hop in the window


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("coherent_travel", -0.1),
        ("coherent_travel", 1.5),
        ("coherent_travel", float("nan")),
        ("size_gate_growth", 0.5),
        ("size_gate_growth", float("inf")),
        ("size_gate", -1.0),
        ("slot_evidence_share", -0.1),
        ("slot_evidence_share", 1.5),
        ("slot_evidence_share", float("nan")),
        ("slot_evidence_share", True),
        ("unclaimed_steady_frames", 0),
        ("unclaimed_steady_frames", float("nan")),
        ("unclaimed_steady_frames", 2.5),
        ("unclaimed_steady_frames", True),
        ("steady_window", 0),
        ("steady_window", True),
        ("steady_move", -0.01),
        ("steady_move", float("nan")),
    ],
)
def test_gate_travel_and_evidence_settings_are_refused_in_one_sentence(
    field: str, value: float
) -> None:
    with pytest.raises(ValueError, match=field):
        TrackerConfig(**{field: value})
