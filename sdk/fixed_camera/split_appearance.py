"""Colour as a second witness when a blob is split between tracks (issue 21: "split
between them by their moved masks, appearance and the slots' claims").

A track's moved mask is last frame's outline shifted by its velocity. Where two objects
meet, the moved masks alone go wrong in two ways (three of the four contacts that became
lasting merges on the classical benchmark's static clip): the smaller object runs into
the larger one's moved mask and, the larger being taken to be in front, is hidden; or the
larger one's mask already held part of the smaller one, and the split by distance hands
it a little more each frame until the smaller is gone. Each track's colours under its
last mask say which pixels are its own. Where moved masks overlap, the one whose colours
explain the pixel better is in front; then each pixel goes to the track with the best
score: the log probability of its colour under the track's colours, plus a prior for the
pixels the track's moved mask shows, less a cost for distance outside them. A histogram,
not a mean, so that a car's dark windows stay the car's. Colours are quantised to
BINS_PER_CHANNEL levels per channel: two vivid objects fall in different bins.

Colour is consulted for a blob only when some two of the tracks that may split it are of
different hues (HUE_APART); then it weighs in for all of them. The tracks that
met on the real CDnet slices were 0.01-0.02 apart (32 splits, all of one hue), and on the
real crowd clip colour changed nothing either: there the split is the moved masks' alone,
at no extra cost.
"""

from __future__ import annotations

from functools import cached_property

import cv2
import numpy as np

_BITS = 3  # the top bits of each channel that make its level
BINS_PER_CHANNEL = 1 << _BITS
BINS = BINS_PER_CHANNEL**3
# the least probability a colour has under a track: a colour it never showed costs
# log(FLOOR) ≈ -4.6 nats against 0 to -1 for its main colours
FLOOR = 0.01
# a pixel DISTANCE_SCALE × a track's size outside the pixels its moved mask shows costs it
# one nat
DISTANCE_SCALE = 0.25
# the pixels a track's moved mask shows are worth MASK_PRIOR nats to it: another track must
# explain their colour about 7 times better to take them (a car's dark window next to a
# dark car stays the car's)
MASK_PRIOR = 2.0
# tracks whose mean chromaticities lie closer than this look alike: half the smallest gap
# between two different hues on sdk.tracker's colour scale (0.1-0.3); the tracks that met
# on the real CDnet slices were 0.01-0.02 apart. At 0.1 the classical benchmark's crowded
# clip lost colour for some pairs (ARI-FG 0.902 -> 0.896, HOTA 0.704 -> 0.671)
HUE_APART = 0.05


def colour_bins(image: np.ndarray) -> np.ndarray:
    """[H, W] uint16 bin of each pixel of an [H, W, 3] uint8 image."""
    # per channel planes: a third of the time of shifting the interleaved array
    first, second, third = cv2.split(np.ascontiguousarray(image[..., :3]) >> (8 - _BITS))
    out = first.astype(np.uint16) << (2 * _BITS)
    out |= second.astype(np.uint16) << _BITS
    np.bitwise_or(out, third, out=out)
    return out


def colour_shares(bins: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(BINS,) share of each colour bin among the pixels of `bins` (colour_bins, [h, w])
    under `mask` (bool [h, w]); all zero for an empty mask."""
    counts = np.bincount(bins[mask], minlength=BINS).astype(np.float64)
    total = counts.sum()
    return counts / total if total > 0 else counts


def log_probability(shares: np.ndarray) -> np.ndarray:
    """(BINS,) float32 log probability of each colour bin, at least log(FLOOR)."""
    return np.log(shares + FLOOR).astype(np.float32)


def hues_apart(hues: list[np.ndarray | None]) -> bool:
    """Whether some two of these tracks' mean chromaticities (sdk.tracker: Track.colour;
    None where there is no hue, as for a black object) lie HUE_APART or more apart, or one
    has a hue and the other none. Otherwise the tracks look alike and colour is not
    consulted, which spares a crowd of people in dark clothes its cost."""
    for i, a in enumerate(hues):
        for b in hues[i + 1 :]:
            if (a is None) != (b is None):
                return True
            if a is not None and b is not None and float(np.linalg.norm(a - b)) >= HUE_APART:
                return True
    return False


class FrameColours:
    """A frame at the foreground map's size ([H, W, 3] uint8) and its colour bins, computed
    once, and only if a split asks for them (most frames split nothing)."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = image

    @cached_property
    def bins(self) -> np.ndarray:
        return colour_bins(self.image)


class TrackColours:
    """A track's colour distribution (colour_shares) under its mask in the frame the mask
    was taken from; computed once, and only when a split asks."""

    def __init__(self, frame: FrameColours | None, x0: int, y0: int, mask: np.ndarray) -> None:
        self._frame, self._x0, self._y0, self._mask = frame, x0, y0, mask

    @cached_property
    def shares(self) -> np.ndarray:
        assert self._frame is not None  # a detached copy has its shares already
        h, w = self._mask.shape
        bins = self._frame.bins[self._y0 : self._y0 + h, self._x0 : self._x0 + w]
        return colour_shares(bins, self._mask)

    def detached(self) -> TrackColours:
        """The same colours without a reference to the frame (computed now if they were not
        yet): what a lost track keeps while it may come back, so that its frame can go."""
        if self._frame is None:
            return self
        out = TrackColours(None, self._x0, self._y0, self._mask)
        out.__dict__["shares"] = self.shares
        return out
