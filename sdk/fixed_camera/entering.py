"""Objects coming into view at the image border: evidence of an object that the slot rule
(sdk.fixed_camera.slot_evidence) would otherwise miss for a while (issue 21: "objects
touching the image border handled on evidence, not dropped").

A slot model trained on the camera's footage often leaves an object that is only partly in
view unclaimed, and such a blob is reported only once its track has moved steadily for
`unclaimed_steady_frames` frames. But an object coming in is partly hidden by the frame's
edge: its visible centre moves at about half its speed and jumps when a new part of its
shape shows, which resets the steady count (on the classical benchmark's static clip one
object went unreported for 20 frames that way). Coming in has its own signature: the blob
touches the border, its box grows from one frame to the next, and its inner edge or its
centre moves away from that border (a new part of its shape can move the centre a little
the other way). A track whose blob did that in `unclaimed_entering_frames` sightings in
a row is reported like a steady one. A speck at the border of a shaking camera flickers,
growing and shrinking, and rarely grows inward four frames running: on the real CDnet
slices the reported objects are the same as without the rule (three recorded trainings
replayed), and at three frames a few more specks got out on the fall slice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sdk.fixed_camera.fused import FusedObject


class _Sighting(NamedTuple):
    box: tuple[int, int, int, int]
    x: float  # centroid, map pixels
    y: float
    run: int  # sightings in a row coming in, this one included


class EnteringTracks:
    """One stream's tracks coming into view; `update` once per frame."""

    def __init__(self) -> None:
        self._last: dict[int, _Sighting] = {}  # track ID -> its blob the frame before

    def reset(self) -> None:
        self._last = {}

    def update(
        self,
        objects: Sequence[FusedObject],
        ids: Sequence[int],
        shape: tuple[int, int],
        frames: int,
        growth: float,
    ) -> set[int]:
        """IDs of the tracks whose blobs came in from the border of a map of `shape` (H, W)
        in `frames` sightings in a row, each box at least `growth` times the one before
        (frames 0: none). A track not seen this frame starts again."""
        height, width = shape
        now: dict[int, _Sighting] = {}
        entering = set()
        for obj, track_id in zip(objects, ids, strict=True):
            x0, y0, x1, y1 = obj.bbox
            x, y = obj.centroid
            area = (x1 - x0) * (y1 - y0)
            before = self._last.get(track_id)
            run = 0
            if before is not None:
                bx0, by0, bx1, by1 = before.box
                inward = (
                    (x0 <= 0 and (x1 > bx1 or x > before.x))
                    or (x1 >= width and (x0 < bx0 or x < before.x))
                    or (y0 <= 0 and (y1 > by1 or y > before.y))
                    or (y1 >= height and (y0 < by0 or y < before.y))
                )
                grew = area >= growth * (bx1 - bx0) * (by1 - by0)
                run = before.run + 1 if inward and grew else 0
            now[track_id] = _Sighting(obj.bbox, x, y, run)
            if frames > 0 and run >= frames:
                entering.add(track_id)
        self._last = now
        return entering
