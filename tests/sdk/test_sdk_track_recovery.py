"""Re-identification by colour and the tentative track's extra cost (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest

from sdk import Tracker, TrackerConfig
from sdk.fixed_camera.reidentify import colour_reidentified
from sdk.tracker import Observation

RED, BLUE = [0.6, 0.2, 0.2], [0.2, 0.3, 0.5]
GREY, OTHER_GREY = [0.34, 0.33, 0.33], [0.31, 0.33, 0.36]  # 0.036 apart, both neutral


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
    """Last seen at y = -0.16, its prediction 11 frames on is -0.60; it comes out at -0.06:
    0.54 from the prediction (past the 0.35 motion gate), 0.10 from where it was last seen
    (within 0.35 + 0.04 × 11), and of the same colour."""
    tracker = Tracker()
    hidden = _lost_behind_another(tracker, RED)
    (back,) = tracker.update([_seen(0.0, -0.06, RED)])
    assert back == hidden
    assert tracker.tracks[0].lost == 0


@pytest.mark.parametrize(
    ("track_colour", "colour", "where", "config"),
    [
        (RED, BLUE, -0.06, TrackerConfig()),  # another colour
        (None, None, -0.06, TrackerConfig()),  # no colour to go by
        (RED, RED, 0.9, TrackerConfig()),  # out of reach: 1.06 from where it was last seen
        (GREY, OTHER_GREY, -0.06, TrackerConfig()),  # greys: colour cannot tell them apart
        (RED, RED, -0.06, TrackerConfig(recover_colour=0.0)),  # re-identification off
    ],
)
def test_without_a_telling_colour_or_out_of_reach_it_is_a_new_object(
    track_colour: list[float] | None,
    colour: list[float] | None,
    where: float,
    config: TrackerConfig,
) -> None:
    tracker = Tracker(config)
    hidden = _lost_behind_another(tracker, track_colour)
    (back,) = tracker.update([_seen(0.0, where, colour)])
    assert back != hidden


def test_a_track_matched_by_its_gate_is_not_offered_to_a_newcomer_of_its_colour() -> None:
    """A red object missed for two frames comes back where its prediction expects it and a
    second red object appears 0.3 from it, within the recovery's reach: the first keeps its
    ID, the newcomer gets a new one (the matched track is not lost any more)."""
    tracker = Tracker()
    for i in range(5):
        (red,) = tracker.update([_seen(0.02 * i, 0.0, RED)])
    tracker.update([])
    tracker.update([])
    back, newcomer = tracker.update([_seen(0.14, 0.0, RED), _seen(0.14, 0.3, RED)])
    assert back == red
    assert newcomer != red


def test_each_lost_track_comes_back_at_most_once() -> None:
    """Two red objects lost at one place, two red newcomers: each track takes one."""
    tracker = Tracker(TrackerConfig(min_hits=1))
    first = tracker.update([_seen(-0.1, 0.0, RED), _seen(0.1, 0.0, RED), _seen(0.6, 0.0, BLUE)])
    for _ in range(8):
        tracker.update([_seen(0.6, 0.0, BLUE)])
    ids = tracker.update([_seen(-0.5, 0.0, RED), _seen(0.5, 0.2, RED), _seen(0.6, 0.0, BLUE)])
    assert sorted(ids[:2]) == sorted(first[:2])
    assert ids[2] == first[2]


def _reidentified(last_seen, frames, track_colours, positions, colours, max_frames=30):
    return colour_reidentified(
        np.array(last_seen, dtype=float),
        np.array(frames),
        np.array(track_colours, dtype=float),
        np.array(positions, dtype=float),
        np.array(colours, dtype=float),
        gate=0.35,
        speed=0.04,
        max_colour=0.1,
        max_frames=max_frames,
    )


def test_colour_reidentified_pairs_within_reach_and_colour() -> None:
    # track 0 (red) reaches 0.39 after one frame: not (0, 0.5), but (0.3, 0.1);
    # track 1 (blue) reaches 1.15 after 20 frames and observation 2 is blue
    pairs = _reidentified(
        [[0.0, 0.0], [0.5, 0.0]],
        [1, 20],
        [RED, BLUE],
        [[0.0, 0.5], [0.3, 0.1], [0.05, 0.0]],
        [RED, RED, BLUE],
    )
    assert sorted(pairs) == [(0, 1), (1, 2)]
    assert _reidentified(np.zeros((0, 2)), np.zeros(0), np.zeros((0, 3)), [[0, 0]], [RED]) == []


def test_colour_reidentified_takes_the_closest_colour_and_never_a_forbidden_pair() -> None:
    near_red, nearer_red = [0.55, 0.22, 0.23], [0.59, 0.2, 0.21]
    pairs = _reidentified(
        [[0.0, 0.0]], [2], [RED], [[0.1, 0.0], [0.2, 0.0]], [near_red, nearer_red]
    )
    assert pairs == [(0, 1)]
    # two tracks, two observations, one allowed pair: the other rows are not paired
    pairs = _reidentified(
        [[0.0, 0.0], [0.5, 0.5]], [2, 2], [RED, BLUE], [[0.1, 0.0], [-0.9, -0.9]], [RED, BLUE]
    )
    assert pairs == [(0, 0)]


def test_the_reach_stops_growing_after_max_frames() -> None:
    far = [[0.0, 0.9]]  # 0.9 away: within 0.35 + 0.04 × 20, not within 0.35 + 0.04 × 10
    assert _reidentified([[0.0, 0.0]], [20], [RED], far, [RED]) == [(0, 0)]
    assert _reidentified([[0.0, 0.0]], [20], [RED], far, [RED], max_frames=10) == []


def test_a_nan_position_is_never_within_reach() -> None:
    assert _reidentified([[np.nan, 0.0]], [2], [RED], [[0.0, 0.0]], [RED]) == []


def test_a_fragments_new_track_does_not_take_the_object_back() -> None:
    """A tall object is seen as two pieces for one frame: the upper piece keeps the track,
    the lower starts a tentative one. Next frame the whole object is back, between the two:
    without the tentative track's extra cost, its nearer, newer track would take it."""

    def run(config: TrackerConfig) -> tuple[int, int, int, int]:
        tracker = Tracker(config)
        for _ in range(5):
            (whole,) = tracker.update([_seen(0.0, 0.0, RED, size=0.6)])
        upper, lower = tracker.update(
            [_seen(0.0, -0.1, RED, size=0.3), _seen(0.0, 0.2, RED, size=0.3)]
        )
        (back,) = tracker.update([_seen(0.0, 0.05, RED, size=0.6)])
        return whole, upper, lower, back

    whole, upper, lower, back = run(TrackerConfig())
    assert upper == whole and lower != whole
    assert back == whole
    whole, _, _, back = run(TrackerConfig(tentative_cost=0.0))
    assert back != whole  # the case the extra cost is for


@pytest.mark.parametrize("field", ["recover_colour", "recover_speed", "tentative_cost"])
@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf")])
def test_recovery_settings_are_checked(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        TrackerConfig(**{field: value})


def test_recover_frames_is_checked() -> None:
    with pytest.raises(ValueError, match="recover_frames"):
        TrackerConfig(recover_frames=-1)
