"""Re-identification by colour and the tentative track's extra cost (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest

from sdk import Tracker, TrackerConfig
from sdk.fixed_camera.reidentify import colour_reidentified
from sdk.tracker import Observation

RED, BLUE = [0.6, 0.2, 0.2], [0.2, 0.3, 0.5]


def _seen(x: float, y: float, colour: list[float] | None, size: float = 0.2) -> Observation:
    return Observation(
        np.array([x, y]),
        np.array([size, size]),
        np.zeros(0),
        None if colour is None else np.array(colour),
    )


def _lost_behind_another(tracker: Tracker, colour: list[float] | None) -> int:
    """An object seen moving up for 5 frames, then hidden for 10: its track coasts upwards."""
    for i in range(5):
        (hidden,) = tracker.update([_seen(0.0, -0.04 * i, colour)])
    for _ in range(10):
        tracker.update([])
    return hidden


def test_an_object_that_comes_back_off_its_prediction_keeps_its_id_by_colour() -> None:
    """It comes out 0.1 below where it was last seen: 0.64 from the coasting prediction (past
    the motion gate), within 0.35 + 0.04 × 11 of its last position, and the same colour."""
    tracker = Tracker()
    hidden = _lost_behind_another(tracker, RED)
    (back,) = tracker.update([_seen(0.0, -0.06, RED)])
    assert back == hidden
    assert tracker.tracks[0].lost == 0


def test_without_its_colour_or_out_of_reach_it_is_a_new_object() -> None:
    for colour, where in ((BLUE, -0.06), (None, -0.06), (RED, 0.9)):
        tracker = Tracker()
        hidden = _lost_behind_another(tracker, RED if colour is not None else None)
        (back,) = tracker.update([_seen(0.0, where, colour)])
        assert back != hidden, (colour, where)


def test_a_matched_track_is_not_taken_by_recovery_and_each_track_comes_back_once() -> None:
    """Two red objects lost at one place, two red newcomers: each track takes one; a track
    that the motion gate matched is not offered to another observation."""
    tracker = Tracker(TrackerConfig(min_hits=1))
    first = tracker.update([_seen(-0.1, 0.0, RED), _seen(0.1, 0.0, RED), _seen(0.6, 0.0, BLUE)])
    for _ in range(8):
        tracker.update([_seen(0.6, 0.0, BLUE)])
    ids = tracker.update([_seen(-0.5, 0.0, RED), _seen(0.5, 0.2, RED), _seen(0.6, 0.0, BLUE)])
    assert sorted(ids[:2]) == sorted(first[:2])
    assert ids[2] == first[2]


def test_colour_reidentified_takes_the_closest_colours_within_reach() -> None:
    pairs = colour_reidentified(
        last_seen=np.array([[0.0, 0.0], [0.5, 0.0]]),
        frames_lost=np.array([1, 20]),
        track_colours=np.array([RED, BLUE]),
        positions=np.array([[0.0, 0.5], [0.3, 0.1], [0.05, 0.0]]),
        colours=np.array([RED, RED, BLUE]),
        gate=0.35,
        speed=0.04,
        max_colour=0.1,
    )
    # track 0 (red) reaches 0.39: not (0, 0.5); observation 1 is red and within reach;
    # track 1 (blue) reaches 1.15 and observation 2 is blue
    assert sorted(pairs) == [(0, 1), (1, 2)]
    assert (
        colour_reidentified(
            np.zeros((0, 2)),
            np.zeros(0),
            np.zeros((0, 3)),
            np.zeros((1, 2)),
            np.array([RED]),
            0.35,
            0.04,
            0.1,
        )
        == []
    )


def test_a_fragments_new_track_does_not_take_the_object_back() -> None:
    """A tall object is seen as two pieces for one frame: the upper piece keeps the track,
    the lower starts a tentative one. Next frame the whole object is back, between the two:
    without the tentative track's extra cost, its nearer, newer track would take it."""
    config = TrackerConfig()
    tracker = Tracker(config)
    for _ in range(5):
        (whole,) = tracker.update([_seen(0.0, 0.0, RED, size=0.6)])
    upper, lower = tracker.update([_seen(0.0, -0.1, RED, size=0.3), _seen(0.0, 0.2, RED, size=0.3)])
    assert upper == whole and lower != whole
    (back,) = tracker.update([_seen(0.0, 0.05, RED, size=0.6)])
    assert back == whole
    plain = Tracker(TrackerConfig(tentative_cost=0.0))
    for _ in range(5):
        plain.update([_seen(0.0, 0.0, RED, size=0.6)])
    plain.update([_seen(0.0, -0.1, RED, size=0.3), _seen(0.0, 0.2, RED, size=0.3)])
    (taken,) = plain.update([_seen(0.0, 0.05, RED, size=0.6)])
    assert taken != whole  # the case the extra cost is for


@pytest.mark.parametrize("field", ["recover_colour", "recover_speed", "tentative_cost"])
@pytest.mark.parametrize("value", [-0.1, float("nan")])
def test_recovery_settings_are_checked(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        TrackerConfig(**{field: value})
