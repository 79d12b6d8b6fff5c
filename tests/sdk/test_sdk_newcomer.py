"""An object that comes into view touching a tracked one, or in front of it, is cut out of
the blob by its colours (sdk.fixed_camera.newcomer, through ObjectTracks), on hand-drawn
maps and images."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from drawn_maps import H, W, coloured_step, disc, iou, painted

from sdk.fixed_camera.newcomer import MIN_PIXELS, cut_newcomers
from sdk.fixed_camera.object_tracks import ObjectTracks
from sdk.fixed_camera.split_appearance import FrameColours, TrackColours
from sdk.fixed_camera.track_split import PredictedMask
from sdk.tracker import Tracker

GREEN, DARK_GREEN = (13, 191, 9), (21, 157, 35)
SHADOWED_GREEN, SILVER, ORANGE = (7, 105, 5), (150, 150, 150), (220, 120, 20)


def _chroma(colour: tuple[int, int, int]) -> np.ndarray:
    c = np.array(colour, dtype=np.float64)
    return c / c.sum()


LARGE = disc(100, 60, 30)
BOX = (70, 30, 131, 91)  # LARGE's box


def _track(colour: tuple[int, int, int] = GREEN) -> PredictedMask:
    """The large disc's track: its moved mask and its colours, from a frame of it alone."""
    crop = LARGE[30:91, 70:131]
    alone = FrameColours(painted((LARGE, colour)))
    return PredictedMask(70, 30, crop, TrackColours(alone, 70, 30, crop), _chroma(colour))


def _cut(
    newcomer_colour: tuple[int, int, int],
    track: PredictedMask | None = None,
    known: list[TrackColours] | None = None,
) -> tuple[np.ndarray, dict[int, int], np.ndarray]:
    """A disc of newcomer_colour in front of the large green one, inside its box: one blob."""
    newcomer = disc(115, 60, 10)
    labels = np.zeros((H, W), np.uint8)
    labels[LARGE] = 1
    frame = FrameColours(painted((LARGE, GREEN), (newcomer, newcomer_colour)))
    out, cut_from = cut_newcomers(
        labels, {1: BOX}, {}, set(), [track or _track()], frame, 0.3, 0.1, known or []
    )
    return out, cut_from, newcomer


def test_an_object_of_another_hue_in_front_of_a_tracked_one_is_cut_out() -> None:
    out, cut_from, newcomer = _cut(DARK_GREEN)
    ((piece, blob),) = cut_from.items()
    assert blob == 1
    assert iou(out == piece, newcomer) > 0.8
    assert np.array_equal(out > 0, LARGE)  # still a partition of the blob


def test_the_same_hue_darker_is_a_shadow_not_a_newcomer() -> None:
    assert _cut(SHADOWED_GREEN)[1] == {}


def test_a_part_of_no_hue_is_not_a_newcomer() -> None:
    # a grey part coming into view, a car's tyre or window
    assert _cut(SILVER)[1] == {}


def test_a_colour_another_track_showed_is_not_a_newcomer() -> None:
    elsewhere = disc(30, 30, 10)
    seen = FrameColours(painted((elsewhere, DARK_GREEN)))
    known = TrackColours(seen, 20, 20, elsewhere[20:41, 20:41])
    assert _cut(DARK_GREEN, known=[known])[1] == {}


def test_a_blob_whose_track_has_no_hue_is_left_whole() -> None:
    grey_track = replace(_track(SILVER), hue=_chroma(SILVER))
    labels = np.zeros((H, W), np.uint8)
    labels[LARGE] = 1
    frame = FrameColours(painted((LARGE, SILVER), (disc(115, 60, 10), ORANGE)))
    out, cut_from = cut_newcomers(labels, {1: BOX}, {}, set(), [grey_track], frame, 0.3, 0.1)
    assert cut_from == {} and out is labels


def test_a_sprinkle_of_new_colours_smaller_than_min_pixels_is_no_newcomer() -> None:
    newcomer = np.zeros((H, W), bool)
    newcomer[58:62, 120:124] = True  # 16 pixels
    assert newcomer.sum() < MIN_PIXELS
    labels = np.zeros((H, W), np.uint8)
    labels[LARGE] = 1
    frame = FrameColours(painted((LARGE, GREEN), (newcomer, ORANGE)))
    _, cut_from = cut_newcomers(labels, {1: BOX}, {}, set(), [_track()], frame, 0.3, 0.1)
    assert cut_from == {}


def test_sensor_noise_does_not_hide_a_newcomer() -> None:
    rng = np.random.default_rng(3)
    newcomer = disc(115, 60, 10)
    labels = np.zeros((H, W), np.uint8)
    labels[LARGE] = 1
    clean = painted((LARGE, GREEN), (newcomer, DARK_GREEN)).astype(np.float64)
    noisy = np.clip(clean + rng.normal(0, 12, clean.shape), 0, 255).astype(np.uint8)
    alone = np.clip(
        painted((LARGE, GREEN)).astype(np.float64) + rng.normal(0, 12, clean.shape), 0, 255
    ).astype(np.uint8)
    crop = LARGE[30:91, 70:131]
    track = PredictedMask(
        70, 30, crop, TrackColours(FrameColours(alone), 70, 30, crop), _chroma(GREEN)
    )
    out, cut_from = cut_newcomers(
        labels, {1: BOX}, {}, set(), [track], FrameColours(noisy), 0.3, 0.1
    )
    (piece,) = cut_from
    assert iou(out == piece, newcomer) > 0.6


def test_an_object_arriving_in_front_of_a_tracked_one_gets_its_own_id_and_mask() -> None:
    """A green disc is tracked; a dark green one comes in from the right border in front of
    it. Once the newcomer's track is confirmed it is reported with its own ID and mask,
    and the green disc keeps its ID."""
    tracks = ObjectTracks(Tracker())
    green_id = None
    for t in range(16):
        green = disc(150 + t, 60, 30)
        newcomer = disc(W + 12 - 3 * max(t - 5, 0), 60, 14) if t >= 6 else None
        layers = [(green, GREEN)] + ([] if newcomer is None else [(newcomer, DARK_GREEN)])
        image = painted(*layers)
        blob = green if newcomer is None else (green | newcomer)
        fused, ids = coloured_step(tracks, image, blob)
        if t == 4:
            (green_id,) = ids
    masks = {i: fused.labels == o.label for o, i in zip(fused.objects, ids, strict=True)}
    assert green_id in masks and len(masks) == 2
    (other,) = [m for i, m in masks.items() if i != green_id]
    assert iou(other, newcomer) > 0.8
    assert iou(masks[green_id], green & ~newcomer) > 0.8


def test_a_highlight_is_a_paler_shade_of_the_track_not_a_newcomer() -> None:
    purple = (190, 80, 235)
    paler = tuple(round((c + 230) / 2) for c in purple)  # lit by a white light
    assert float(np.linalg.norm(_chroma(paler) - _chroma(purple))) > 0.1  # far apart...
    newcomer = disc(115, 60, 10)
    labels = np.zeros((H, W), np.uint8)
    labels[LARGE] = 1
    frame = FrameColours(painted((LARGE, purple), (newcomer, paler)))  # type: ignore[arg-type]
    _, cut_from = cut_newcomers(labels, {1: BOX}, {}, set(), [_track(purple)], frame, 0.3, 0.1)
    assert cut_from == {}  # ...but on the line from grey through the purple
