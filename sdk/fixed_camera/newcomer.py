"""An object that comes into view touching a tracked one, or in front of it, is cut out of
the blob by its colours (issue 21: each object one mask and one ID through contacts).

An object that arrives while touching a tracked object is part of that object's blob from
its first frame: no track ever held it apart, so the split by moved masks
(sdk.fixed_camera.track_split) has nothing to split by, and when the tracked object
leaves, its track carries on with the newcomer. On the classical benchmark's clips one
such arrival, a darker green disc coming in over a green one at the border, handed an ID
from one object to the other for the rest of the clip (about 107 of the 916 scored object
frames of each of five groups).

The tracks in a blob know their colours (split_appearance: each one's histogram under its
last mask). A connected part of the blob whose colours none of them, nor any other live or
lost track, showed (each under UNSEEN of its pixels), of a hue of its own (more than
`recover_colour` from grey) and as far from each of theirs (the distance at which
re-identification tells two objects apart), is a newcomer: it is cut out as its own piece
and gets a new track. The part may lie inside a track's moved mask: an object that comes
in front of another covers it. The part is found where most of a small neighbourhood is
of such colours (sensor noise scatters an object's pixels over neighbouring colour bins),
and must have a body, not only a band a few pixels wide: in `astseg demo`'s clip, bands of
colours blended along the objects' soft outlines were cut as newcomers without it, and
their short-lived tracks took IDs from the objects (objects followed by one ID 0.875 ->
0.625).

What this leaves alone: a shadow, a highlight or a change of light (the same hue, darker,
paler or brighter);
a car's dark windows or grey tyres coming into view (no hue of their own); and every blob
whose tracks have no hue (grey and white cars, people in dark clothes), as on the real
CDnet slices and the real crowd clip, where the tracks are of no hue or all of one.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from sdk.fixed_camera.blob_pieces import BlobPieces, holder, tracks_in
from sdk.fixed_camera.reidentify import NEUTRAL, has_hue
from sdk.fixed_camera.split_appearance import BINS, HUE_APART, FrameColours, TrackColours
from sdk.fixed_camera.track_split import MAX_LABEL, PredictedMask

# a colour a track did not show: under this share of its last mask's pixels
UNSEEN = 0.02
# a newcomer's chromaticity lies at least this far off the line from grey through each
# track's (half the split's HUE_APART): nearer, it is a shade of the track's own colour
OFF_SHADE = HUE_APART / 2
# the newcomer holds at least this many pixels
MIN_PIXELS = 24
# a pixel is in a newcomer when at least DENSITY of its _NEIGHBOURHOOD × _NEIGHBOURHOOD
# neighbours are of colours no track showed
DENSITY = 0.4
_NEIGHBOURHOOD = 5
_BODY = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))


def cut_newcomers(
    labels: np.ndarray,
    boxes: dict[int, tuple[int, int, int, int]],
    cut_from: dict[int, int],
    owned: set[int],
    visible: list[PredictedMask],
    frame: FrameColours,
    min_share: float,
    min_hue: float,
    hidden: Sequence[TrackColours] = (),
) -> tuple[np.ndarray, dict[int, int]]:
    """Cut each blob's newcomer, if it has one, as a piece of its own. `labels` (uint8
    [H, W]) and `cut_from` ({piece: blob}) as the splits so far left them, `boxes`: each
    blob's x0, y0, x1, y1 from before them; `owned`: pieces already given to a track (not
    cut again); `visible`: the moved masks of the tracks that split blobs this frame (a
    blob's tracks: those whose moved mask it holds at least `min_share` of); `min_hue`:
    how far from grey a chromaticity must lie to be a hue (TrackerConfig.recover_colour;
    0: nothing is cut); `hidden`: the colours of the lost tracks that may come back
    (sdk.fixed_camera.reemergence). No colour a visible or hidden track showed is a
    newcomer's (one track partly hidden behind another shows in its blob). Returns the labels (a new
    array when something was cut) and cut_from with the new pieces added."""
    if not visible or min_hue <= 0 or len(boxes) + len(cut_from) >= MAX_LABEL:
        return labels, cut_from
    hued = [has_hue(p.hue, min_hue) and p.colours is not None for p in visible]
    if not any(hued):
        return labels, cut_from
    # the colours some live or lost track showed: none of them is a newcomer's
    seen = np.zeros(BINS, dtype=bool)
    for colours in [p.colours for p in visible if p.colours is not None] + list(hidden):
        seen |= colours.shares >= UNSEEN
    pieces = BlobPieces(labels, boxes, cut_from, owned)
    tagged = list(enumerate(visible))
    for blob in _blobs_of_hued_tracks(labels, cut_from, visible, hued, min_share):
        if pieces.full:
            break
        box = boxes.get(blob)
        if box is None:
            continue
        mine = pieces.mine(blob)
        shown = tracks_in(mine, box, tagged, min_share)
        if not shown or not all(hued[k] for k in shown):
            continue
        part = _newcomer(frame, list(shown.values()), seen, mine, box, min_hue)
        if part is None or not pieces.may_cut(blob, part):
            continue
        pieces.cut(blob, part)
    return pieces.labels, pieces.cut_from


def _blobs_of_hued_tracks(
    labels: np.ndarray,
    cut_from: dict[int, int],
    visible: list[PredictedMask],
    hued: list[bool],
    min_share: float,
) -> list[int]:
    """The blobs (in the order first found) that hold at least min_share of the moved
    mask of a track of a hue: the only ones a newcomer can be cut from, found without
    looking at every blob (a crowd of 40 grey tracks costs one test each)."""
    found: dict[int, None] = {}
    for predicted, is_hued in zip(visible, hued, strict=True):
        label = holder(labels, predicted, min_share) if is_hued else 0
        if label:
            found[cut_from.get(label, label)] = None
    return list(found)


def _newcomer(
    frame: FrameColours,
    masks: list[PredictedMask],
    seen: np.ndarray,
    mine: np.ndarray,
    box: tuple[int, int, int, int],
    min_hue: float,
) -> np.ndarray | None:
    """The blob's largest connected part (bool over its box) of colours no track showed
    (`seen`: (BINS,) bool), when it holds MIN_PIXELS and is of a hue apart from each of
    the masks'; else None."""
    x0, y0, x1, y1 = box
    new = mine & ~seen[frame.bins[y0:y1, x0:x1]]
    if np.count_nonzero(new) < MIN_PIXELS:
        return None
    # where most of a neighbourhood is of unseen colours: sensor noise scatters an object's
    # pixels over neighbouring bins, some seen, and a one-pixel line of mixed edge colours
    # between two objects fills a fifth of it
    density = cv2.blur(new.astype(np.float32), (_NEIGHBOURHOOD, _NEIGHBOURHOOD))
    dense = ((density >= DENSITY) & mine).view(np.uint8)
    # an object has a body: a band a few pixels wide along an edge (colours blended with
    # the background's, a soft outline) is no newcomer
    dense = cv2.morphologyEx(dense, cv2.MORPH_OPEN, _BODY)
    count, parts, stats, _ = cv2.connectedComponentsWithStats(dense, connectivity=8)
    if count < 2:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if int(stats[largest, cv2.CC_STAT_AREA]) < MIN_PIXELS:
        return None
    part = parts == largest
    mean = frame.image[y0:y1, x0:x1][part][:, :3].astype(np.float64).mean(axis=0)
    total = float(mean.sum())
    if total <= 1e-6:
        return None
    hue = mean / total
    if not has_hue(hue, min_hue):
        return None
    # as far from each track's colour as re-identification needs to tell two objects apart
    # (its recover_colour), and off the line from grey through it, along which a paler or
    # darker shade of the track's own colour lies (a highlight on a purple object is a
    # paler purple: 0.10 from it, but 0.01-0.02 off that line in `astseg demo`'s clip; the
    # darker green disc that comes in over a green one on the classical clips is 0.04-0.06
    # off it)
    for m in masks:
        if m.hue is None or float(np.linalg.norm(hue - m.hue)) < min_hue:
            return None
        if _off_shade(hue, m.hue) < OFF_SHADE:
            return None
    return part


def _off_shade(colour: np.ndarray, track: np.ndarray) -> float:
    """The distance of a chromaticity from the line through grey and the track's."""
    axis = track - NEUTRAL
    offset = colour - NEUTRAL
    length = float(axis @ axis)
    if length <= 1e-12:
        return float(np.linalg.norm(offset))
    return float(np.linalg.norm(offset - (float(offset @ axis) / length) * axis))
