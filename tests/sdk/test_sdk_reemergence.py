"""An object that comes out from behind another is cut out of the blob by its colours and
keeps its ID (sdk.fixed_camera.reemergence through ObjectTracks), on hand-drawn maps."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from drawn_maps import H, W, coloured_step, disc, iou, painted

from sdk.fixed_camera.object_tracks import ObjectTracks
from sdk.fixed_camera.reemergence import MIN_PIXELS, HiddenTrack, cut_reemerging
from sdk.fixed_camera.split_appearance import FrameColours, TrackColours
from sdk.fixed_camera.track_split import PredictedMask
from sdk.tracker import Observation, Tracker, TrackerConfig

MAGENTA, CYAN, TEAL = (200, 20, 200), (20, 200, 200), (25, 195, 185)


def _pass_behind(small_colour: tuple[int, int, int]) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """A small disc passes behind a large cyan one and comes out on the far side, touching
    it for three frames (t 16-18) before they part. Returns, for each of those frames and
    the first one apart, the small disc's visible part and the mask reported under the ID
    it had before it was hidden (None: that ID is not reported)."""
    tracks = ObjectTracks(Tracker())
    out = []
    small_id = None
    for t in range(20):
        small, large = disc(30 + 5 * t, 60, 10), disc(100 - t, 60, 30)
        visible = small & ~large
        image = painted((small, small_colour), (large, CYAN))
        touching = bool((disc(30 + 5 * t, 60, 11) & large).any())
        blobs = (visible | large,) if touching else (visible, large)
        fused, ids = coloured_step(tracks, image, *blobs)
        if t == 3:  # apart, and reported
            small_id = ids[0]
        if t >= 16:
            masks = {i: fused.labels == o.label for o, i in zip(fused.objects, ids, strict=True)}
            out.append((visible, masks.get(small_id)))
            assert np.array_equal(fused.labels > 0, visible | large)  # still a partition
    return out


def test_an_object_that_comes_out_from_behind_another_keeps_its_id_and_its_own_mask() -> None:
    frames = _pass_behind(MAGENTA)
    for visible, mask in frames[1:]:  # from the second frame out (its part must be large enough)
        assert mask is not None
        assert iou(mask, visible) > 0.6


def test_an_object_of_the_same_hue_is_not_cut_out_by_colour() -> None:
    # teal behind cyan: hues closer than HUE_APART, so the blob stays whole while they touch
    frames = _pass_behind(TEAL)
    for _, mask in frames[:3]:
        assert mask is None


def _blob_scene() -> tuple[np.ndarray, dict[int, tuple[int, int, int, int]], FrameColours]:
    """One blob: a cyan disc with a magenta disc coming out on its right."""
    large, small = disc(90, 60, 30), disc(128, 60, 12)
    labels = np.zeros((H, W), np.uint8)
    labels[large | small] = 1
    image = painted((small, MAGENTA), (large, CYAN))
    ys, xs = np.nonzero(labels)
    return (
        labels,
        {1: (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)},
        FrameColours(image),
    )


def _tracks(
    frame: FrameColours, hidden_x: float, visible_id: int = 1, hidden_id: int = 2
) -> tuple[list[tuple[int, PredictedMask]], list[HiddenTrack]]:
    """The cyan disc's track (visible) and the magenta one's (hidden), their colours taken
    from drawings of each alone."""
    large, small = disc(90, 60, 30), disc(128, 60, 12)
    cyan = FrameColours(painted((large, CYAN)))
    magenta = FrameColours(painted((small, MAGENTA)))
    visible = PredictedMask(
        60,
        30,
        large[30:91, 60:121],
        TrackColours(cyan, 60, 30, large[30:91, 60:121]),
        np.array([0.05, 0.475, 0.475]),
    )
    hidden = HiddenTrack(
        hidden_id,
        hidden_x,
        60.0,
        30.0,
        30.0,
        int(small.sum()),
        TrackColours(magenta, 116, 48, small[48:73, 116:141]),
        np.array([0.476, 0.048, 0.476]),
    )
    return [(visible_id, visible)], [hidden]


def test_the_hidden_tracks_colours_cut_its_part_out_and_name_the_track() -> None:
    labels, boxes, frame = _blob_scene()
    visible, hidden = _tracks(frame, hidden_x=125.0)
    out, cut_from, owners = cut_reemerging(labels, boxes, {}, visible, hidden, frame, 0.3)
    assert len(owners) == 1
    ((piece, track),) = owners.items()
    assert track == 2 and cut_from == {piece: 1}
    coming_out = disc(128, 60, 12) & ~disc(90, 60, 30)
    assert iou(out == piece, coming_out) > 0.8
    assert np.array_equal(out > 0, labels > 0)
    assert labels.max() == 1  # the caller's map is left as it was


def test_a_hidden_track_out_of_reach_cuts_nothing() -> None:
    labels, boxes, frame = _blob_scene()
    visible, hidden = _tracks(frame, hidden_x=10.0)  # 50 pixels left of the blob's box
    out, cut_from, owners = cut_reemerging(labels, boxes, {}, visible, hidden, frame, 0.3)
    assert owners == {} and cut_from == {} and out is labels


def test_a_track_that_splits_the_blob_by_its_moved_mask_is_not_also_cut_by_colour() -> None:
    labels, boxes, frame = _blob_scene()
    visible, hidden = _tracks(frame, hidden_x=125.0, visible_id=2, hidden_id=2)
    _, _, owners = cut_reemerging(labels, boxes, {}, visible, hidden, frame, 0.3)
    assert owners == {}


def test_a_part_smaller_than_min_pixels_is_not_cut() -> None:
    large = disc(90, 60, 30)
    labels = np.zeros((H, W), np.uint8)
    labels[large] = 1
    speck = np.zeros((H, W), bool)
    speck[59:62, 119:122] = True  # 9 magenta pixels on the cyan disc's edge
    assert speck.sum() < MIN_PIXELS
    labels[speck] = 1
    frame = FrameColours(painted((large, CYAN), (speck, MAGENTA)))
    ys, xs = np.nonzero(labels)
    boxes = {1: (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)}
    visible, hidden = _tracks(frame, hidden_x=120.0)
    hidden = [replace(hidden[0], area=20)]
    _, _, owners = cut_reemerging(labels, boxes, {}, visible, hidden, frame, 0.3)
    assert owners == {}


def test_the_tracker_keeps_a_claimed_pair_against_a_cheaper_one() -> None:
    tracker = Tracker()

    def seen(x: float) -> Observation:
        return Observation(np.array([x, 0.0]), np.array([0.2, 0.2]), np.zeros(0))

    first = tracker.update([seen(-0.5), seen(0.5)])
    for _ in range(3):
        ids = tracker.update([seen(-0.5), seen(0.5)])
    assert ids == first
    # the observation at -0.5 is claimed by the track that was at 0.5: it gets that ID, and
    # the track at -0.5 takes the other observation or none, never the claimed one
    ids = tracker.update([seen(-0.5), seen(0.45)], claimed={0: first[1]})
    assert ids[0] == first[1]
    assert ids[1] != first[1]


def test_two_hidden_tracks_of_one_colour_get_one_piece_and_no_empty_label() -> None:
    labels, boxes, frame = _blob_scene()
    visible, hidden = _tracks(frame, hidden_x=125.0)
    twin = replace(hidden[0], track_id=3, area=hidden[0].area - 50)
    out, cut_from, owners = cut_reemerging(labels, boxes, {}, visible, [twin, *hidden], frame, 0.3)
    assert list(owners.values()) == [2]  # the larger hidden track's, once
    assert all(np.count_nonzero(out == piece) > 0 for piece in cut_from)


def test_the_cut_never_empties_a_piece_the_moved_masks_gave_a_visible_track() -> None:
    labels, boxes, frame = _blob_scene()
    coming_out = disc(128, 60, 12) & ~disc(90, 60, 30)
    labels[coming_out] = 2  # split_by_tracks gave the magenta part to a third track
    visible, hidden = _tracks(frame, hidden_x=125.0)
    out, cut_from, owners = cut_reemerging(labels, boxes, {2: 1}, visible, hidden, frame, 0.3)
    assert owners == {} and cut_from == {2: 1} and out is labels


def test_a_hidden_track_that_splits_another_blob_by_its_moved_mask_is_not_cut_here() -> None:
    labels, boxes, frame = _blob_scene()
    visible, hidden = _tracks(frame, hidden_x=125.0)
    elsewhere = disc(170, 20, 8)
    labels[elsewhere] = 2
    ys, xs = np.nonzero(elsewhere)
    boxes[2] = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    crop = elsewhere[boxes[2][1] : boxes[2][3], boxes[2][0] : boxes[2][2]]
    own = PredictedMask(boxes[2][0], boxes[2][1], crop, hidden[0].colours)
    _, _, owners = cut_reemerging(labels, boxes, {}, [*visible, (2, own)], hidden, frame, 0.3)
    assert owners == {}


def test_without_recovery_by_colour_no_track_is_cut_out_by_colour() -> None:
    # recover_colour 0 turns re-identification by colour off: the cut goes with it
    tracks = ObjectTracks(Tracker(TrackerConfig(recover_colour=0.0)))
    small_id = None
    for t in range(19):
        small, large = disc(30 + 5 * t, 60, 10), disc(100 - t, 60, 30)
        visible = small & ~large
        touching = bool((disc(30 + 5 * t, 60, 11) & large).any())
        blobs = (visible | large,) if touching else (visible, large)
        _, ids = coloured_step(tracks, painted((small, MAGENTA), (large, CYAN)), *blobs)
        if t == 3:
            small_id = ids[0]
        if t >= 16:
            assert small_id not in ids


def test_a_lost_track_keeps_its_colours_but_not_its_frame() -> None:
    image = painted((disc(50, 60, 10), MAGENTA))
    frame = FrameColours(image)
    mask = disc(50, 60, 10)[50:71, 40:61]
    colours = TrackColours(frame, 40, 50, mask)
    kept = colours.detached()
    assert np.array_equal(kept.shares, colours.shares)
    assert kept.detached() is kept
    assert all(value is not frame for value in vars(kept).values())
