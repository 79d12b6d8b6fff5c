"""Objects coming into view at the image border are evidence of an object the slot rule
would hold back (sdk.fixed_camera.entering, through ObjectTracks)."""

from __future__ import annotations

import numpy as np
import pytest
from drawn_maps import H, W, claimed_frame, disc, observe

from sdk.fixed_camera.entering import EnteringTracks
from sdk.fixed_camera.fused import FusedObject, measure_labels
from sdk.fixed_camera.object_tracks import ObjectTracks
from sdk.fixed_camera.slot_evidence import WARM_UP_FRAMES
from sdk.tracker import Tracker, TrackerConfig


def _blob(mask: np.ndarray) -> FusedObject:
    labels = mask.astype(np.uint8)
    (obj,) = measure_labels(labels, {})
    return obj


def _runs(masks: list[np.ndarray | None], frames: int = 4) -> list[bool]:
    """Whether track 7 counts as entering after each frame (None: not seen that frame)."""
    entering = EnteringTracks()
    out = []
    for mask in masks:
        objects = [] if mask is None else [_blob(mask)]
        ids = [] if mask is None else [7]
        out.append(7 in entering.update(objects, ids, (H, W), frames, 1.05))
    return out


def test_a_blob_growing_in_from_the_border_counts_from_its_fourth_step_in() -> None:
    coming = [disc(W + 14 - 3 * k, 60, 16) for k in range(8)]
    assert _runs(coming) == [False] * 4 + [True] * 4
    assert _runs(coming, frames=0) == [False] * 8


@pytest.mark.parametrize(
    "masks",
    [
        [disc(W - 20 + 3 * k, 60, 16) for k in range(8)],  # leaving: shrinks, centre out
        [disc(100, 60, 6 + 2 * k) for k in range(8)],  # growing, but in mid-frame
    ],
    ids=["leaving", "mid-frame"],
)
def test_a_blob_leaving_or_growing_away_from_the_border_does_not(masks) -> None:
    assert not any(_runs(masks))


def test_a_frame_the_track_is_not_seen_in_starts_the_run_again() -> None:
    coming = [disc(W + 14 - 3 * k, 60, 16) for k in range(10)]
    masks: list[np.ndarray | None] = [*coming[:3], None, *coming[4:]]
    assert _runs(masks) == [False] * 8 + [True] * 2  # seen again at 4: a new run from there


def _first_reported(entering_frames: int) -> int:
    """The frame (after it first shows) from which an object coming slowly in at the right
    border, no slot claiming it, is reported; a claimed car drives meanwhile."""
    config = TrackerConfig(min_travel=0.02, unclaimed_entering_frames=entering_frames)
    tracks = ObjectTracks(Tracker(config))
    shown = []
    for t in range(WARM_UP_FRAMES + 25):
        k = t - WARM_UP_FRAMES
        blob = disc(W + 14 - 2 * k, 60, 16) if k >= 0 else None
        car = disc(30 + 3 * t, 100, 12)
        fused, _ = tracks.update(claimed_frame(car, *([] if blob is None else [blob])), observe, 2)
        if blob is not None:
            shown.append(bool(fused.labels[blob].all()))
    first = shown.index(True)
    assert all(shown[first:])  # reported from then on
    return first


def test_an_unclaimed_object_coming_in_is_reported_sooner_than_by_its_steady_path() -> None:
    # its visible centre moves at about half its speed: the steady run (5 frames of 1.5 px
    # in 3) comes late; coming in for 4 frames lets it out as soon as it is confirmed and
    # has moved
    assert _first_reported(4) == 4
    assert _first_reported(0) == 7


def test_the_entering_counts_are_checked() -> None:
    with pytest.raises(ValueError, match="unclaimed_entering_frames"):
        TrackerConfig(unclaimed_entering_frames=-1)
    with pytest.raises(ValueError, match="entering_growth"):
        TrackerConfig(entering_growth=0.9)


def test_a_new_part_that_pulls_the_centre_back_does_not_break_the_run() -> None:
    # coming in from the right; on its fourth sighting a tall part shows at the border,
    # which pulls its centre outward while its inner edge still advances
    coming = [disc(W + 14 - 3 * k, 60, 16) for k in range(8)]
    for k in range(3, 8):
        coming[k] = coming[k].copy()
        coming[k][0:H, W - 2 :] = True
    centres = [_blob(m).centroid[0] for m in coming[2:4]]
    assert centres[1] > centres[0]  # the centre moved back toward the border
    assert _runs(coming) == [False] * 4 + [True] * 4
