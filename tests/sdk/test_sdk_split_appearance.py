"""Colour as a witness when a blob is split between tracks (sdk.fixed_camera.split_appearance,
used by sdk.fixed_camera.track_split through ObjectTracks), on hand-drawn maps and images."""

from __future__ import annotations

import numpy as np
import pytest
from drawn_maps import GREY, H, W, coloured_step, disc, iou, observe, painted

from sdk.fixed_camera.fused import FusedLabels, measure_labels
from sdk.fixed_camera.object_tracks import ObjectTracks
from sdk.fixed_camera.split_appearance import (
    BINS,
    FLOOR,
    HUE_APART,
    FrameColours,
    TrackColours,
    colour_bins,
    colour_shares,
    hues_apart,
    log_probability,
)
from sdk.fixed_camera.track_split import PredictedMask, split_by_tracks
from sdk.tracker import Tracker

RED, BLUE, DARK = (220, 30, 30), (30, 40, 210), (20, 20, 20)


def _small_object_runs_onto_a_large_one(
    with_colour: bool, small_colour: tuple[int, int, int] = RED
) -> tuple[np.ndarray, np.ndarray]:
    """A small red disc runs fast into a large blue one and, in the frame they meet, is
    three quarters inside the large one's outline, in front of it. Returns the small
    track's mask and the red disc in that frame."""
    tracks = ObjectTracks(Tracker())
    for t in range(7):  # apart until frame 5 (2 pixels between them), then one blob
        small, large = disc(36 + 12 * t, 60, 9), disc(150 - 3 * t, 60, 28)
        image = painted((large, BLUE), (small, small_colour))
        blobs = (small, large) if t < 6 else (small | large,)
        fused, ids = coloured_step(tracks, image if with_colour else None, *blobs)
        if t == 5:
            assert len(set(ids)) == 2
            small_id = ids[0]
    assert np.array_equal(fused.labels > 0, small | large)  # a partition of the blob
    masks = {i: fused.labels == o.label for o, i in zip(fused.objects, ids, strict=True)}
    return masks.get(small_id, np.zeros((H, W), bool)), small


def test_an_object_in_front_of_a_larger_one_is_cut_out_by_its_colour() -> None:
    mask, small = _small_object_runs_onto_a_large_one(with_colour=True)
    assert iou(mask, small) > 0.8


def test_without_colours_the_larger_object_is_taken_to_be_in_front() -> None:
    # the same scene split by moved masks alone: the small object counts as hidden
    mask, small = _small_object_runs_onto_a_large_one(with_colour=False)
    assert iou(mask, small) < 0.5


def test_objects_of_one_hue_are_split_by_their_moved_masks_alone() -> None:
    # a darker blue runs into the blue disc: the same hue, so colour is not consulted and
    # the small object is hidden, as without colours
    navy = (15, 20, 105)
    mask, small = _small_object_runs_onto_a_large_one(with_colour=True, small_colour=navy)
    assert iou(mask, small) < 0.5


def test_hues_apart_needs_two_hues_far_enough_or_one_hue_and_none() -> None:
    red, orange = np.array([0.6, 0.3, 0.1]), np.array([0.6, 0.3 + HUE_APART, 0.1 - HUE_APART])
    assert not hues_apart([red, red + HUE_APART / 4])
    assert hues_apart([red, orange])  # sqrt(2) x HUE_APART apart
    assert hues_apart([red, None]) and not hues_apart([None, None])
    assert hues_apart([red, red, orange]) and not hues_apart([red])


def test_an_object_keeps_its_own_dark_parts_next_to_a_dark_neighbour() -> None:
    """A red car with a dark window meets a dark car: the window is the red car's, since its
    colours showed it before, and the dark car does not take it for its own colour."""
    tracks = ObjectTracks(Tracker())
    window = np.zeros((H, W), bool)

    def scene(t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        red, dark = disc(50 + 5 * t, 60, 16), disc(150 - 5 * t, 60, 16)
        window[:] = False
        window[56:64, 50 + 5 * t : 64 + 5 * t] = True  # inside the red disc, on its right
        return red, dark, painted((red, RED), (dark, DARK), (window, DARK))

    for t in range(7):  # apart until frame 6 (8 pixels between them)
        red, dark, image = scene(t)
        _, ids = coloured_step(tracks, image, red, dark)
    red, dark, image = scene(7)  # touching: 85 + 16 = 101 > 115 - 16 = 99
    fused, merged = coloured_step(tracks, image, red | dark)
    assert sorted(merged) == sorted(ids)
    assert np.array_equal(fused.labels > 0, red | dark)  # a partition of the blob
    masks = {i: fused.labels == o.label for o, i in zip(fused.objects, merged, strict=True)}
    assert masks[ids[0]][window].mean() > 0.95
    assert iou(masks[ids[0]], red) > 0.85 and iou(masks[ids[1]], dark & ~red) > 0.85


def test_a_colour_histogram_gives_each_seen_bin_its_share_and_the_rest_the_floor() -> None:
    colours = np.array([[RED, RED, BLUE, GREY]], np.uint8)
    mask = np.array([[True, True, True, False]])
    log_p = log_probability(colour_shares(colour_bins(colours), mask)).astype(np.float64)
    bins = colour_bins(colours)[0]
    assert log_p.shape == (BINS,) and len(set(bins.tolist())) == 3 and bins[0] == bins[1]
    np.testing.assert_allclose(np.exp(log_p[bins[0]]), 2 / 3 + FLOOR, rtol=1e-6)
    np.testing.assert_allclose(np.exp(log_p[bins[2]]), 1 / 3 + FLOOR, rtol=1e-6)
    # the grey pixel is outside the mask: its bin is as unseen as any other
    np.testing.assert_allclose(np.exp(log_p[bins[3]]), FLOOR, rtol=1e-6)
    assert np.count_nonzero(log_p > np.log(FLOOR)) == 2


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((H, W - 1, 3), np.uint8),  # another size than the map
        np.zeros((H, W), np.uint8),  # grey
        np.zeros((H, W, 3), np.float32),  # not 8-bit
    ],
)
def test_an_image_that_does_not_fit_the_map_is_refused_in_one_sentence(
    image: np.ndarray,
) -> None:
    labels = np.zeros((H, W), np.uint8)
    labels[disc(50, 60, 10)] = 1
    fused = FusedLabels(labels, measure_labels(labels, {}))
    with pytest.raises(ValueError, match="the size of the label map"):
        ObjectTracks(Tracker()).update(fused, observe, 0, image)


def test_a_track_that_keeps_no_pixel_by_colour_does_not_split_the_blob() -> None:
    """Two tracks' masks in one blob whose pixels all have the larger track's colour: the
    smaller one gets no piece, so the blob is not split and no label is spent on it."""
    large, small = disc(80, 60, 18), disc(104, 60, 6)
    before = FrameColours(painted((large, RED), (small, BLUE)))
    now = FrameColours(painted((large | small, RED)))
    labels = np.zeros((H, W), np.uint8)
    labels[large | small] = 1
    ys, xs = np.nonzero(large | small)
    boxes = {1: (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)}
    red, blue = np.array([0.78, 0.11, 0.11]), np.array([0.11, 0.15, 0.75])
    predicted = [
        PredictedMask(0, 0, mask, TrackColours(before, 0, 0, mask), hue)
        for mask, hue in ((large, red), (small, blue))
    ]
    split, cut_from = split_by_tracks(labels, boxes, predicted, 0.3, now)
    assert cut_from == {} and np.array_equal(split, labels)
    # by distance alone the same blob is split in two
    assert len(split_by_tracks(labels, boxes, predicted, 0.3)[1]) == 1
