"""An object that comes out from behind another is cut out of the blob by its colours
(issue 21: "an object that passes behind another keeps its ID").

When an object passes behind a larger one, its visible share soon falls below what the
split by moved masks needs (sdk.fixed_camera.track_split), its track coasts, and after
`split_memory` frames its moved mask splits nothing more. When it comes out on the far
side while still touching the other object, the foreground holds one blob and the object
stays inside the other's track until the two part: on the classical benchmark's static
clip three such passes kept an object merged for 15 to 37 frames, and one of them cost it
its ID.

Its colours have not changed. A hidden track (confirmed, lost for at most
`recover_frames`, of a hue: the tracks sdk.fixed_camera.reidentify may give an ID back to;
its reach, `gate_distance` + `recover_speed` per frame lost, is measured from where its
velocity puts it) whose colours explain a part of a nearby blob clearly better than the
colours of every visible track in that blob (by MARGIN nats a pixel) gets that part cut
out as a piece of its own, which the tracker then matches to it. Only blobs whose visible
tracks are of a different hue (split_appearance.hues_apart) are looked at, so on the real
CDnet slices, whose tracks are all of one hue, no colour is scored, and in a crowd of
neutral clothes no track is hidden with its colours at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sdk.fixed_camera.blob_pieces import BlobPieces, holder, tracks_in
from sdk.fixed_camera.split_appearance import FrameColours, TrackColours, log_probability
from sdk.fixed_camera.split_appearance import hues_apart as _hues_apart
from sdk.fixed_camera.track_split import MAX_LABEL, PredictedMask

# a pixel goes to the hidden track only when its colour is this many nats more probable
# under the hidden track's colours than under any visible track's in the blob (about 7
# times): a colour both share, such as a shadowed edge, stays where it was
MARGIN = 2.0
# the part cut out holds at least this share of the hidden track's last mask, and at least
# MIN_PIXELS: a sliver of edge pixels is no object
MIN_SHARE = 0.1
MIN_PIXELS = 16
_OPEN = np.ones((3, 3), dtype=np.uint8)  # one-pixel lines of mixed edge colours go


@dataclass(frozen=True)
class HiddenTrack:
    """A lost track that may come out from behind another object."""

    track_id: int
    x: float  # where its motion puts it now, map pixels
    y: float
    reach_x: float  # how far from there it may be, map pixels along each axis
    reach_y: float
    area: int  # pixels of its last mask
    colours: TrackColours
    hue: np.ndarray

    def within_reach(self, x: float, y: float) -> bool:
        dx, dy = (x - self.x) / max(self.reach_x, 1e-9), (y - self.y) / max(self.reach_y, 1e-9)
        return dx * dx + dy * dy <= 1.0


def cut_reemerging(
    labels: np.ndarray,
    boxes: dict[int, tuple[int, int, int, int]],
    cut_from: dict[int, int],
    visible: list[tuple[int, PredictedMask]],
    hidden: list[HiddenTrack],
    frame: FrameColours,
    min_share: float,
) -> tuple[np.ndarray, dict[int, int], dict[int, int]]:
    """Cut each hidden track's coming-out part from the first blob within its reach that
    has one (larger hidden tracks first). `labels` (uint8 [H, W]) and `cut_from` ({piece:
    blob}) as split_by_tracks returned them, `boxes`: each blob's x0, y0, x1, y1 from
    before the split; `visible`: (track ID, moved mask) of the tracks that split blobs
    this frame; a blob's visible tracks are those whose moved mask it holds at least
    `min_share` of. A hidden track that is also visible and holds that share of some blob
    is split by its moved mask instead. The part is taken from the blob and its pieces,
    but never from another hidden track's part, and never leaves a label under
    blob_pieces.MIN_LEFT pixels. Returns the labels (a new array when something was cut),
    cut_from with the new pieces added, and {new piece: the hidden track's ID}
    (sdk.tracker.Tracker.update's `claimed`)."""
    owners: dict[int, int] = {}
    if not hidden or len(boxes) + len(cut_from) >= MAX_LABEL:
        return labels, cut_from, owners
    pieces = BlobPieces(labels, boxes, cut_from)
    splitting = _splitting(labels, visible, min_share)
    for track in sorted(hidden, key=lambda t: t.area, reverse=True):
        if track.track_id in splitting:
            continue
        for blob, (x0, y0, x1, y1) in boxes.items():
            if pieces.full:
                break
            # the blob's box must come within reach of where the hidden track should be
            nearest_x = min(max(track.x, x0), x1 - 1)
            nearest_y = min(max(track.y, y0), y1 - 1)
            if not track.within_reach(nearest_x, nearest_y):
                continue
            mine = pieces.mine(blob)
            shown = tracks_in(mine, (x0, y0, x1, y1), visible, min_share)
            if not shown:
                continue  # nothing to tell it from
            masks = list(shown.values())
            if any(m.colours is None for m in masks):
                continue
            if not all(_hues_apart([track.hue, m.hue]) for m in masks):
                continue
            part = _coming_out(frame, track, masks, mine, (x0, y0, x1, y1))
            if part is None or not pieces.may_cut(blob, part):
                continue
            owners[pieces.cut(blob, part)] = track.track_id
            break  # one piece for each hidden track; it is no one else's to cut
    return pieces.labels, pieces.cut_from, owners


def _splitting(
    labels: np.ndarray, visible: list[tuple[int, PredictedMask]], min_share: float
) -> set[int]:
    """IDs of the visible tracks whose moved mask some one blob or piece holds at least
    min_share of (the split by moved masks takes care of them)."""
    return {track_id for track_id, p in visible if holder(labels, p, min_share)}


def _coming_out(
    frame: FrameColours,
    track: HiddenTrack,
    masks: list[PredictedMask],
    mine: np.ndarray,
    box: tuple[int, int, int, int],
) -> np.ndarray | None:
    """The blob's pixels (bool over its box) whose colours the hidden track explains by
    MARGIN better than every visible track: their largest connected part, when it is
    large enough, lies within reach and leaves the blob MIN_PIXELS; else None."""
    x0, y0, x1, y1 = box
    bins = frame.bins[y0:y1, x0:x1]
    own = log_probability(track.colours.shares)[bins]
    best_other = np.full(own.shape, -np.inf, dtype=np.float32)
    for m in masks:
        assert m.colours is not None
        np.maximum(best_other, log_probability(m.colours.shares)[bins], out=best_other)
    claim = (own >= best_other + np.float32(MARGIN)) & mine
    least = max(MIN_PIXELS, int(MIN_SHARE * track.area))
    if np.count_nonzero(claim) < least:
        return None
    claim = cv2.morphologyEx(claim.view(np.uint8), cv2.MORPH_OPEN, _OPEN)
    count, parts, stats, centres = cv2.connectedComponentsWithStats(claim, connectivity=8)
    if count < 2:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area = int(stats[largest, cv2.CC_STAT_AREA])
    if area < least or np.count_nonzero(mine) - area < MIN_PIXELS:
        return None
    cx, cy = centres[largest]
    if not track.within_reach(x0 + cx, y0 + cy):
        return None
    return parts == largest
