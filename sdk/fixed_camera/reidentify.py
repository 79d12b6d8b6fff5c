"""Re-identification by colour: an object that comes back after a merge or an occlusion
gets its old ID (issue 21).

While two objects pass each other, the foreground holds one blob and one of the two tracks
coasts on the velocity it had, which the shrinking visible part of the hidden object
skewed. When the object comes out again, its position is often outside the motion gate
around that prediction, and it would get a new ID. Its colour has not changed: a lost
track takes an observation that no track matched when their chromaticities are within
`max_colour` and the observation lies within `gate + speed × frames` of where the track
was last seen (how far an object can have gone at `speed` a frame; `frames` counts the
frames since then, at most `max_frames`). Pairs are chosen by an optimal assignment on
the colour distance.

Grey, white, silver and black objects all have a chromaticity near (⅓, ⅓, ⅓): colour
cannot tell them apart, so a track of a neutral colour (within `max_colour` of it) is
never re-identified this way, and keeps the motion gate alone.
"""

from __future__ import annotations

import math

import numpy as np

from sdk.assignment import FORBIDDEN, linear_sum_assignment

NEUTRAL = np.full(3, 1.0 / 3.0)  # the chromaticity of every grey


def has_hue(colour: np.ndarray | None, max_colour: float) -> bool:
    """Whether a chromaticity (None: none measured) lies more than max_colour from grey's:
    a colour that can tell an object from others."""
    if colour is None:
        return False
    # Python floats: 40 tracks a frame ask this, where a numpy call each costs more
    r, g, b = colour.tolist()
    third = 1.0 / 3.0
    return math.sqrt((r - third) ** 2 + (g - third) ** 2 + (b - third) ** 2) > max_colour


def colour_reidentified(
    last_seen: np.ndarray,
    frames: np.ndarray,
    track_colours: np.ndarray,
    positions: np.ndarray,
    colours: np.ndarray,
    gate: float,
    speed: float,
    max_colour: float,
    max_frames: int,
) -> list[tuple[int, int]]:
    """(track row, observation row) pairs: tracks' last positions [T, 2], frames since they
    were seen [T] and chromaticities [T, 3]; observations' positions [O, 2] and
    chromaticities [O, 3], positions in the model's -1..1 units. `max_colour` 0: none."""
    if not len(last_seen) or not len(positions) or max_colour <= 0:
        return []
    elapsed = np.minimum(frames.astype(np.float64), float(max_frames))
    reach = gate + speed * elapsed
    near = np.linalg.norm(last_seen[:, None] - positions[None], axis=2) <= reach[:, None]
    colour = np.linalg.norm(track_colours[:, None] - colours[None], axis=2)
    hued = np.linalg.norm(track_colours - NEUTRAL, axis=1) > max_colour
    allowed = near & (colour <= max_colour) & hued[:, None]  # NaN fails every test
    if not allowed.any():
        return []
    cost = np.where(allowed, colour, FORBIDDEN)  # as many allowed pairs as can be made
    return [
        (int(r), int(k)) for r, k in zip(*linear_sum_assignment(cost), strict=True) if allowed[r, k]
    ]
