"""The slot model's word on what is an object (fixed-camera mode, issue 21).

A slot model trained on a camera's own footage learns its moving things: on the real
CDnet slices the slots claim about 93 % of the foreground pixels a frame, nearly every
object on the truth is claimed by a slot, and nearly every speck off it (a branch tip
against the sky, a guardrail post that a shaking camera makes flicker) is claimed by none.
So when the model has a slot to spare and spends it on nothing, a blob no slot claims is
one the model looked at and declined: it is not reported. A slot "to spare" is one that
owns no object this frame, whether it was inactive (score under `min_score`) or owned too
few pixels: either way the model did not make an object of this blob.

Slots' claims vouch for a track for the rest of its life once a slot has claimed it in
`claims` frames (the tracker's `min_hits`: as often as a track must be seen to be
confirmed; one claim let more of the guardrail specks of the real traffic slice out, which
a slot takes now and then: objects a frame 2.13 against 1.88, replayed): an object that
slots held is the model's object, near where they held it: the vouch reaches `REACH` times
the last claimed blob's larger box side from its centre (a track slots claimed during a
shake went on to hop along a guardrail and onto a tree's moving shadow: traffic 1.61
against 1.42 objects a frame on one training, replayed; the synthetic clips' IDF1 0.685
against 0.684). A piece cut from a claimed blob inherits the blob's slot, which counts for
nothing. A slot holds one object at most: of the blobs it claims in a frame, only the
largest counts as a claim (a slot spread over a shaking guardrail claims a row of specks
at once; counting them all let them out for life: objects a frame 1.65 against 2.49 on the
real traffic slice, replayed). A track no slot ever claimed is still reported while it has
been moved-worthy (far and coherent enough, Track.steady) in `unclaimed_steady_frames`
frames in a row in which it was seen (a speck that flickers along a rail is seen in some
frames only: counting across missed frames let it out, 1.65 against 1.28 on traffic,
replayed): a slot model still misses objects (issue 22: some hide in its background
layer), and a steady path is evidence that a flickering speck does not give. That
exemption lasts only while the run does (an unclaimed object that turns back is held back
again until its path is steady again): made lifelong, it let the guardrail specks of the
real traffic slice out, whose hops along the rail are steady for a while (objects a frame
2.13 against 2.68, replayed). Coherence is judged over the track's last `steady_history`
sightings (TrackerConfig), so an object that turned back long ago is steady again while it
goes on. A track whose blob comes into view at the image border is exempt too
(sdk.fixed_camera.entering).

That holds only for a model that knows the scene. The shipped model, trained on synthetic
shapes, claims about a third of the foreground on the real crowd clip, where most people
are unclaimed for want of a model that has seen people. So the rule applies only once
`WARM_UP_FRAMES` frames with foreground have been seen and while the slots' running share
is at least `slot_evidence_share` (TrackerConfig); otherwise the motion evidence
(sdk.tracker) decides alone. The running share is the claimed pixels' running mean over
the foreground pixels' (both over about `SHARE_FRAMES` frames), so each frame weighs by
its foreground: a few frames of specks before the first car barely move it (a mean of
per-frame shares kept the rule off for the first 20 frames of the real fall slice, where
only specks came first: objects a frame 2.12 against 1.94, replayed).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import NamedTuple

from sdk.fixed_camera.fused import FusedObject

SHARE_FRAMES = 50  # the running share is a mean over about this many frames
WARM_UP_FRAMES = 10  # frames with foreground before the share is trusted
REACH = 2.0  # a vouch holds within this many of the claimed blob's extents of where it was


class _Claims(NamedTuple):
    """A live track's claims: in how many frames a slot held it, and the centroid (map
    pixels) and larger box side of the last blob held."""

    frames: int
    x: float
    y: float
    side: int


class SlotEvidence:
    """One stream's running slot share and the live tracks vouched for; `declined` once
    per frame."""

    def __init__(self) -> None:
        self.share = 0.0  # running share of the foreground pixels that slots claim
        self._claimed_pixels = self._foreground_pixels = 0.0  # running means a frame
        self._frames = 0  # frames with foreground seen so far
        self._claims: dict[int, _Claims] = {}  # live track ID -> its claims

    def reset(self) -> None:
        self.share, self._claimed_pixels, self._foreground_pixels = 0.0, 0.0, 0.0
        self._frames, self._claims = 0, {}

    def declined(
        self,
        objects: Sequence[FusedObject],
        ids: Sequence[int],
        *,
        num_slots: int,
        min_share: float,
        claims: int = 1,
        steady: Collection[int] = (),
        pieces: Collection[int] = (),
        alive: Collection[int] | None = None,
    ) -> list[bool]:
        """For each object, whether the slot model declined it this frame (see the module
        docstring). num_slots 0 (no slot model) or min_share 0 declines nothing; `claims`:
        the frames a slot must have claimed a track in to vouch for it; `steady`:
        IDs of tracks moved-worthy in enough updates in a row (exempt this frame);
        `pieces`: labels of objects cut from a blob, whose slot is the blob's; `alive`: the
        IDs of every live track (the claims of the others are forgotten; None keeps them)."""
        held = _held(objects)
        for o, i in zip(objects, ids, strict=True):
            if o.label in held and o.label not in pieces:
                before = self._claims.get(i)
                x0, y0, x1, y1 = o.bbox
                self._claims[i] = _Claims(
                    (before.frames if before else 0) + 1,
                    o.centroid[0],
                    o.centroid[1],
                    max(x1 - x0, y1 - y0),
                )
        if alive is not None:
            self._claims = {i: c for i, c in self._claims.items() if i in alive}
        total = sum(o.area for o in objects)
        if total > 0:
            claimed = sum(o.area for o in objects if o.slot >= 0)
            self._frames += 1
            rate = 1.0 / min(self._frames, SHARE_FRAMES)
            self._claimed_pixels += rate * (claimed - self._claimed_pixels)
            self._foreground_pixels += rate * (total - self._foreground_pixels)
            self.share = self._claimed_pixels / self._foreground_pixels
        if num_slots <= 0 or min_share <= 0 or self._frames < WARM_UP_FRAMES:
            return [False] * len(objects)
        if self.share < min_share or len({o.slot for o in objects if o.slot >= 0}) >= num_slots:
            return [False] * len(objects)  # a model that does not know the scene, or no spare slot
        return [
            o.slot < 0 and not self._vouched(o, i, claims) and i not in steady
            for o, i in zip(objects, ids, strict=True)
        ]

    def _vouched(self, obj: FusedObject, track: int, claims: int) -> bool:
        """Slots claimed the track in `claims` frames, and it is still near where they last
        did: within REACH of that blob's larger box side (map pixels)."""
        held = self._claims.get(track)
        if held is None or held.frames < claims:
            return False
        distance = math.hypot(obj.centroid[0] - held.x, obj.centroid[1] - held.y)
        return distance <= REACH * max(held.side, 1)


def _held(objects: Sequence[FusedObject]) -> set[int]:
    """Labels of the objects a slot holds: each slot's largest object this frame (a slot
    spread over several blobs holds one object at most; the rest are its satellites)."""
    largest: dict[int, FusedObject] = {}
    for o in objects:
        if o.slot >= 0 and (o.slot not in largest or o.area > largest[o.slot].area):
            largest[o.slot] = o
    return {o.label for o in largest.values()}
