"""Objects from evidence and tracking as part of segmentation (sdk.fixed_camera.object_tracks),
on hand-drawn label maps: no model, no background graph."""

from __future__ import annotations

import numpy as np
from drawn_maps import H, W, disc, iou, observe

from sdk.fixed_camera.fused import FusedLabels, measure_labels
from sdk.fixed_camera.object_tracks import ObjectTracks
from sdk.tracker import Tracker


def _fused(*blobs: np.ndarray) -> FusedLabels:
    """Fusion's output with one unclaimed object per (possibly merged) blob mask."""
    labels = np.zeros((H, W), np.uint8)
    for label, blob in enumerate(blobs, start=1):
        labels[blob] = label
    return FusedLabels(labels, measure_labels(labels, {}))


def _step(tracks: ObjectTracks, *blobs: np.ndarray) -> tuple[FusedLabels, list[int]]:
    fused, ids = tracks.update(_fused(*blobs), observe)
    _assert_partition(fused, np.logical_or.reduce([*blobs, np.zeros((H, W), bool)]))
    return fused, ids


def _assert_partition(fused: FusedLabels, foreground: np.ndarray) -> None:
    """Every reported pixel is foreground and belongs to exactly one reported object."""
    labels = fused.labels
    assert not labels[~foreground].any()
    assert sorted(int(v) for v in np.unique(labels[labels > 0])) == sorted(
        o.label for o in fused.objects
    )
    assert sum(o.area for o in fused.objects) == int((labels > 0).sum())


def test_a_blob_over_two_tracked_objects_is_split_along_their_masks() -> None:
    tracks = ObjectTracks(Tracker())
    for t in range(6):  # apart and approaching: two confirmed, moving tracks
        _, ids = _step(tracks, disc(40 + 5 * t, 60, 14), disc(160 - 5 * t, 60, 14))
    assert len(set(ids)) == 2
    left, right = disc(82, 60, 14), disc(118, 60, 14)
    blob = left | right | disc(100, 60, 6)  # touching: one component, one fused object
    fused, merged_ids = _step(tracks, blob)
    assert sorted(merged_ids) == sorted(ids)
    masks = {i: fused.labels == o.label for o, i in zip(fused.objects, merged_ids, strict=True)}
    assert iou(masks[ids[0]], left) > 0.85 and iou(masks[ids[1]], right) > 0.85
    assert np.array_equal(fused.labels > 0, blob)  # the split keeps every blob pixel


def test_an_object_hidden_behind_another_for_ten_frames_keeps_its_id() -> None:
    tracks = ObjectTracks(Tracker())
    front = disc(100, 60, 30)  # a larger object arriving from the right, then standing
    for t in range(6):
        _, ids = _step(tracks, disc(20 + 4 * t, 60, 8), disc(130 - 6 * t, 60, 30))
    walker, standing = ids
    hidden = 0
    for t in range(6, 40):  # the walker goes on at 4 px a frame, behind the standing one
        walker_disc = disc(20 + 4 * t, 60, 8)
        if (walker_disc & front).any():  # touching or behind: one blob
            _, ids = _step(tracks, walker_disc | front)
        else:
            _, ids = _step(tracks, walker_disc, front)
        if not (walker_disc & ~front).any():
            hidden += 1
            assert ids == [standing]  # no piece of the front object is given to the walker
    assert hidden >= 10
    assert sorted(ids) == sorted([walker, standing])  # out on the other side: same ID


def test_a_speck_fixed_since_the_first_frame_is_never_reported() -> None:
    tracks = ObjectTracks(Tracker())
    speck = disc(20, 100, 3)
    reported: set[int] = set()
    for t in range(40):
        fused, ids = _step(tracks, speck, disc(40 + 3 * t, 40, 10))
        assert not (fused.labels[speck]).any()
        reported |= set(ids)
    assert len(reported) == 1  # the moving object only


def test_a_one_frame_speck_is_never_reported_and_tentative_tracks_wait() -> None:
    tracks = ObjectTracks(Tracker())
    for t in range(12):
        blobs = [disc(30 + 4 * t, 60, 10)]
        if t % 3 == 1:  # a speck that lives one frame, somewhere new each time
            blobs.append(disc(150, 20 + 10 * t % 80, 3))
        fused, ids = _step(tracks, *blobs)
        assert len(ids) == (0 if t < 2 else 1)  # confirmed on its third frame
        assert all(o.area > 100 for o in fused.objects)


def test_an_object_entering_over_the_border_is_reported_on_evidence() -> None:
    """Touching the image border is no reason to drop an object: it is confirmed like any."""
    tracks = ObjectTracks(Tracker())
    for t in range(5):
        entering = disc(-6 + 4 * t, 60, 12)  # cut by the left border in every frame
        fused, ids = _step(tracks, entering)
    assert len(ids) == 1 and fused.objects[0].bbox[0] == 0


def test_held_back_pixels_leave_the_map_returned_and_the_callers_map_stays() -> None:
    """The held-back objects' pixels, and only theirs, leave the returned map, whether the
    frame was split or not; the map passed in is never changed."""
    tracks = ObjectTracks(Tracker())
    speck = disc(20, 100, 3)  # still since the first frame: always held back
    for t in range(8):
        left, right = disc(40 + 5 * t, 50, 14), disc(160 - 5 * t, 50, 14)
        blobs = [left | right] if t == 7 else [left, right]  # one object over both, at last
        fused = _fused(speck, *blobs)
        before = fused.labels.copy()
        out, ids = tracks.update(fused, observe)
        assert np.array_equal(fused.labels, before)
        assert not out.labels[speck].any()
        if t >= 2:  # both confirmed: every other pixel is reported
            assert len(ids) == 2
            assert np.array_equal(out.labels > 0, np.logical_or.reduce(blobs))
            if t < 7:
                assert np.array_equal(out.labels, np.where(speck, 0, before))
    assert len({o.label for o in out.objects}) == 2  # the last frame's blob was split
