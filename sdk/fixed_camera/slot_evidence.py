"""The slot model's word on what is an object (fixed-camera mode, issue 21).

A slot model trained on a camera's own footage learns its moving things: on the real
CDnet slices the slots claim about 93 % of the foreground pixels a frame, nearly every
object on the truth is claimed by a slot, and nearly every speck off it (a branch tip
against the sky, a guardrail post that a shaking camera makes flicker) is claimed by none.
So when the model has a slot to spare and spends it on nothing, a blob no slot claims is
one the model looked at and declined: it is not reported, unless a slot claimed its track
at some earlier frame (an object that a slot held once is the model's object).

That holds only for a model that knows the scene. The shipped model, trained on synthetic
shapes, claims about a third of the foreground on the real crowd clip, where most people
are unclaimed for want of a model that has seen people. So the rule applies only while
the slots' running share of the foreground pixels is at least `slot_evidence_share`
(TrackerConfig); otherwise the motion evidence (sdk.tracker) decides alone.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sdk.fixed_camera.fused import FusedObject

# the running share is a mean over about this many frames (the plain mean before that)
SHARE_FRAMES = 50


class SlotEvidence:
    """One stream's running slot share and the tracks slots have claimed; `declined` once
    per frame."""

    def __init__(self) -> None:
        self.share = 0.0  # running share of foreground pixels that slots claim
        self._frames = 0  # frames with foreground seen so far
        self._claimed: set[int] = set()  # IDs of tracks a slot claimed at some frame

    def reset(self) -> None:
        self.share, self._frames, self._claimed = 0.0, 0, set()

    def declined(
        self,
        objects: Sequence[FusedObject],
        ids: Sequence[int],
        num_slots: int,
        min_share: float,
        steady: Collection[int] = (),
    ) -> list[bool]:
        """For each object, whether the slot model declined it this frame (see the module
        docstring); num_slots 0 (no slot model) or min_share 0 declines nothing, and the
        tracks in `steady` (IDs) have shown the motion that outweighs the model's word."""
        self._claimed.update(i for o, i in zip(objects, ids, strict=True) if o.slot >= 0)
        total = sum(o.area for o in objects)
        if total > 0:
            claimed = sum(o.area for o in objects if o.slot >= 0)
            self._frames += 1
            rate = 1.0 / min(self._frames, SHARE_FRAMES)
            self.share += rate * (claimed / total - self.share)
        if num_slots <= 0 or min_share <= 0 or self.share < min_share:
            return [False] * len(objects)
        if len({o.slot for o in objects if o.slot >= 0}) >= num_slots:
            return [False] * len(objects)  # every slot is busy: the rest may be objects too
        return [
            o.slot < 0 and i not in self._claimed and i not in steady
            for o, i in zip(objects, ids, strict=True)
        ]
