"""Objects from evidence, tracked as part of segmentation: the fixed-camera pipeline's one
entry point after fusion (issue 21).

It runs on the foreground's map (sdk.fixed_camera.fused.fuse_map_labels), before the
labels are brought to the frame's size. Per frame: blobs that cover two tracks last seen
apart are split along the tracks' moved masks (sdk.fixed_camera.track_split); an object
that comes out from behind another is cut out of the blob by its colours and keeps its
track (sdk.fixed_camera.reemergence); the pieces are matched to tracks (sdk.tracker);
only tracks with the evidence of an object are reported (confirmed over `min_hits`
frames, and not a still speck present from the stream's first frame:
Tracker.reportable; and not a blob a slot model that knows the scene declined, unless it
moves steadily or comes into view at the border: sdk.fixed_camera.slot_evidence,
sdk.fixed_camera.entering); the pixels of the rest leave the label map, so the labels
stay a partition of the reported foreground. Each reported or tentative track's mask is
kept for the next frame's split, and a lost track's colours while it may come back.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sdk.fixed_camera.entering import EnteringTracks
from sdk.fixed_camera.fused import FusedLabels, FusedObject, measure_labels
from sdk.fixed_camera.newcomer import cut_newcomers
from sdk.fixed_camera.reemergence import HiddenTrack, cut_reemerging
from sdk.fixed_camera.reidentify import has_hue
from sdk.fixed_camera.slot_evidence import SlotEvidence
from sdk.fixed_camera.split_appearance import FrameColours, TrackColours
from sdk.fixed_camera.track_split import PredictedMask, split_by_tracks
from sdk.tracker import Observation, Track, Tracker, TrackerConfig


class ObjectTracks:
    """Splits, tracks and filters one stream's fused objects; `update` once per frame."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self._masks: dict[int, PredictedMask] = {}  # track ID -> its last mask
        self._slots = SlotEvidence()
        self._entering = EnteringTracks()

    def reset(self) -> None:
        self.tracker.reset()
        self._masks = {}
        self._slots.reset()
        self._entering.reset()

    def _predicted(self, width: int, height: int) -> list[tuple[int, PredictedMask]]:
        """(track ID, last mask moved by velocity × frames since seen, in pixels) of the
        confirmed tracks seen within split_memory frames."""
        out = []
        memory = self.tracker.config.split_memory
        for track in self.tracker.tracks:
            mask = self._masks.get(track.id)
            if mask is None or not track.confirmed or track.lost >= memory:
                continue
            # the velocity is float64: the same products as in arrays, without their calls
            vx, vy = track.velocity.tolist()
            gap = track.lost + 1
            dx, dy = round(vx * gap * (width / 2.0)), round(vy * gap * (height / 2.0))
            moved = PredictedMask(mask.x0 + dx, mask.y0 + dy, mask.mask, mask.colours, track.colour)
            out.append((track.id, moved))
        return out

    def _hidden(self, width: int, height: int) -> list[HiddenTrack]:
        """The lost tracks that may come out from behind another object with their colours
        (sdk.fixed_camera.reemergence): confirmed, of a hue, lost at most recover_frames
        (recover_colour 0: none, as re-identification by colour is off)."""
        c = self.tracker.config
        out = []
        for track in self.tracker.tracks:
            mask = self._masks.get(track.id)
            if not (
                _may_come_back(track, c)
                and mask is not None
                and mask.colours is not None
                and track.colour is not None
            ):
                continue
            gap = track.lost + 1
            vx, vy = track.velocity.tolist()
            h, w = mask.mask.shape
            reach = c.gate_distance + c.recover_speed * min(gap, c.recover_frames)
            out.append(
                HiddenTrack(
                    track.id,
                    mask.x0 + w / 2.0 + vx * gap * (width / 2.0),
                    mask.y0 + h / 2.0 + vy * gap * (height / 2.0),
                    reach * width / 2.0,
                    reach * height / 2.0,
                    int(np.count_nonzero(mask.mask)),
                    mask.colours,
                    track.colour,
                )
            )
        return out

    def update(
        self,
        fused: FusedLabels,
        observe: Callable[[FusedObject, np.ndarray], Observation],
        num_slots: int = 0,
        image: np.ndarray | None = None,
    ) -> tuple[FusedLabels, list[int]]:
        """This frame's reported objects and their IDs; `observe` turns an object (and the
        frame's label map it is measured on) into the tracker's observation; num_slots: the
        slot model's K (0: no slot model ran, sdk.fixed_camera.slot_evidence); image: the
        frame at the map's size ([H, W, 3] uint8), whose colours help split blobs (None:
        by the moved masks alone). The tracks keep a reference to it and read its colours
        in the next frames' splits: pass a fresh array each frame, never a reused buffer."""
        height, width = fused.labels.shape
        objects = fused.objects
        boxes = {o.label: o.bbox for o in objects}
        if image is not None and (
            image.dtype != np.uint8
            or image.ndim != 3
            or image.shape[2] < 3
            or image.shape[:2] != (height, width)
        ):
            raise ValueError(
                f"the image for the split's colours is {image.dtype} {image.shape}; it must "
                f"be uint8 [{height}, {width}, 3 or more], the size of the label map."
            )
        colours = None if image is None else FrameColours(image)
        predicted = self._predicted(width, height)
        labels, cut_from = split_by_tracks(
            fused.labels,
            boxes,
            [p for _, p in predicted],
            self.tracker.config.split_share,
            colours,
        )
        owners: dict[int, int] = {}  # piece -> the hidden track it came out of
        hidden: list[HiddenTrack] = []
        if colours is not None:
            hidden = self._hidden(width, height)
            if hidden:
                labels, cut_from, owners = cut_reemerging(
                    labels,
                    boxes,
                    cut_from,
                    predicted,
                    hidden,
                    colours,
                    self.tracker.config.split_share,
                )
            if predicted:
                labels, cut_from = cut_newcomers(
                    labels,
                    boxes,
                    cut_from,
                    set(owners),
                    [p for _, p in predicted],
                    colours,
                    self.tracker.config.split_share,
                    self.tracker.config.recover_colour,
                    [h.colours for h in hidden],
                )
        pieces: set[int] = set()
        if cut_from:  # measure the pieces again, inside the boxes of the blobs they came from
            slot_of = {o.label: o.slot for o in objects}
            cut = set(cut_from.values())
            source_of = {new: old for new, old in cut_from.items()} | {b: b for b in cut}
            remeasured = measure_labels(
                labels,
                {p: slot_of.get(b, -1) for p, b in source_of.items()},
                {p: boxes[b] for p, b in source_of.items()},
            )
            objects = [o for o in objects if o.label not in cut] + remeasured
            pieces = set(source_of)  # their slot is the blob's: it vouches for nothing
        claimed = {i: owners[o.label] for i, o in enumerate(objects) if o.label in owners}
        ids = self.tracker.update([observe(o, labels) for o in objects], claimed)
        alive = {t.id for t in self.tracker.tracks}
        self._remember(labels, objects, ids, colours)
        config = self.tracker.config
        steady = {t.id for t in self.tracker.tracks if t.steady >= config.unclaimed_steady_frames}
        steady |= self._entering.update(
            objects,
            ids,
            (height, width),
            config.unclaimed_entering_frames,
            config.entering_growth,
        )
        declined = self._slots.declined(
            objects,
            ids,
            num_slots=num_slots,
            min_share=config.slot_evidence_share,
            claims=config.min_hits,
            steady=steady,
            pieces=pieces,
            alive=alive,
        )
        keep = [
            k and not d for k, d in zip(self.tracker.reportable_ids(ids), declined, strict=True)
        ]
        reported = [(o, i) for o, i, k in zip(objects, ids, keep, strict=True) if k]
        if not all(keep):  # the held-back objects' pixels leave the foreground
            held = [o for o, k in zip(objects, keep, strict=True) if not k]
            labels = _erase(labels, held, copy=labels is fused.labels)
        return FusedLabels(labels, [o for o, _ in reported]), [i for _, i in reported]

    def _remember(
        self,
        labels: np.ndarray,
        objects: list[FusedObject],
        ids: list[int],
        frame: FrameColours | None,
    ) -> None:
        """Every matched track's mask this frame, tentative ones included, with the colours
        under it (computed if a split asks; a piece's too: keeping the colours from before
        a contact instead cost the classical benchmark's light-switch clip ARI-FG 0.889 ->
        0.830, as the light changed)."""
        # a track lost split_memory frames or more splits nothing (_predicted) until it is
        # seen again, with a new mask: its old one, and the frame it holds, can go, except
        # for a track whose colours may still find it coming out from behind another (_hidden)
        c = self.tracker.config
        kept = {}
        for t in self.tracker.tracks:
            mask = self._masks.get(t.id)
            if mask is None:
                continue
            if t.lost < c.split_memory:
                kept[t.id] = mask
            elif _may_come_back(t, c) and mask.colours is not None:
                # only its colours are still read: the frame they were taken from can go
                kept[t.id] = PredictedMask(mask.x0, mask.y0, mask.mask, mask.colours.detached())
        self._masks = kept
        for obj, track_id in zip(objects, ids, strict=True):
            x0, y0, x1, y1 = obj.bbox
            mask = labels[y0:y1, x0:x1] == obj.label
            colours = None if frame is None else TrackColours(frame, x0, y0, mask)
            self._masks[track_id] = PredictedMask(x0, y0, mask, colours)


def _erase(labels: np.ndarray, objects: list[FusedObject], copy: bool) -> np.ndarray:
    """The map without these objects' pixels, each cleared inside its own box (a fused map's
    labels are its objects', each within its box: FusedLabels), not by a lookup over the
    whole frame; `copy`: leave the given map as it was."""
    out = labels.copy() if copy else labels
    for obj in objects:
        x0, y0, x1, y1 = obj.bbox
        box = out[y0:y1, x0:x1]
        box[box == obj.label] = 0
    return out


def _may_come_back(track: Track, config: TrackerConfig) -> bool:
    """A lost track whose colours may find it coming out from behind another object: as
    re-identification by colour asks, confirmed, of a hue, lost at most recover_frames."""
    return (
        config.recover_colour > 0
        and track.confirmed
        and 1 <= track.lost <= config.recover_frames
        and has_hue(track.colour, config.recover_colour)
    )
