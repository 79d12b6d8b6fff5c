"""Fused labels: the background model says which pixels are foreground, the slots say
which object each belongs to (issue 12, DESIGN §3 "Fixed-camera mode").

The result is a partition of the frame: every pixel is background or belongs to
exactly one object. It is built at the background graph's resolution, per
8-connected component of the foreground:

- a slot *touches* a component when the pixels it owns in slot mode (argmax over
  the K+1 layers) cover at least `TOUCH_SHARE` of the smaller of the two, and the
  slot is reported (score ≥ min_score and slot-mode area ≥ min_area);
- a component touched by no slot becomes an object of its own, flagged `unclaimed`
  (an object the slots missed, e.g. the fifth car when K = 4, is never dropped);
- a component touched by one slot goes to it whole: the background model's outline,
  not the slot's 64×64 disc, is the mask;
- a component touched by several slots is split between them, pixel by pixel, by
  the largest of their bilinearly upsampled layer weights, except that two pieces
  whose cut is long next to the smaller one (cut ≥ `NECK`·√area: a slot model that
  covers one large object with two glimpses) are one object, the larger piece's slot.
  Touching objects meet at a short neck and stay apart.

An object is one component, or one slot's share of a divided component: a slot that
spans two separate components (two cars under one 64×64 glimpse) gives two objects,
which measured better on our crowded synthetic clip (docs/runtime.md). Components
under `min_area` frame pixels are left out of the foreground, so the foreground is
exactly the union of the reported objects. Tracking splits and filters the objects on
this map (`fuse_map_labels`); then it is brought to the frame's size with one
nearest-neighbour resize, and each object is measured inside its own box (`at_frame_size`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from sdk.fixed_camera.foreground import to_frame_size

TOUCH_SHARE = 0.15  # of min(component, slot region): less is a slot's edge grazing a neighbour
MAX_OBJECTS = 255  # the label map is uint8
# cut length / √(smaller piece's area) from which two slots are one object: a straight cut
# through the middle of a disc measures about 1.6 in 4-neighbour pairs, so 1.6 left many
# two-glimpse objects in two pieces, each with its own track ID (issue 21, docs/runtime.md)
NECK = 1.0


@dataclass(frozen=True)
class FusedObject:
    """One object of the fused map, measured on its label map's grid (the frame's, once
    `at_frame_size` has run)."""

    label: int  # its value in the frame's label map
    slot: int  # 0-based slot index, or -1 for foreground no slot claims
    area: int
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1; covers x0 <= x < x1
    centroid: tuple[float, float]  # x, y (pixel centres at integers)

    @property
    def unclaimed(self) -> bool:
        return self.slot < 0


@dataclass(frozen=True)
class FusedLabels:
    labels: np.ndarray  # uint8 [H, W] (frame, or map before at_frame_size): 0 or a label
    objects: list[FusedObject]


def _upsampled(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    source = np.ascontiguousarray(plane, dtype=np.float32)
    if source.shape == (height, width):
        return source
    return cv2.resize(source, (width, height), interpolation=cv2.INTER_LINEAR)


def _slot_owner(weights: np.ndarray, height: int, width: int) -> np.ndarray:
    """The argmax layer, uint8 at height×width: computed at the slot model's size and
    enlarged pixel-centre to pixel-centre (it only counts overlaps; splits use weights)."""
    owner = np.argmax(weights, axis=0).astype(np.uint8)  # ties keep the lower layer
    if owner.shape == (height, width):
        return owner
    return cv2.resize(owner, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)


def fuse_map_labels(
    foreground: np.ndarray,
    weights: np.ndarray | None,
    reported: np.ndarray | None,
    frame_height: int,
    frame_width: int,
    min_area: int,
) -> FusedLabels:
    """The fused partition of one frame, at the foreground map's size: splitting and
    tracking work on this map (12× smaller than a 720p frame), and `at_frame_size` brings
    the result to the frame.

    foreground: uint8 {0, 1} [Hb, Wb] (sdk.fixed_camera.foreground). weights: float
    [K+1, h, w] layer weights (layer 0 = background), or None for background-only mode
    (every component is its own object). reported: bool [K], the slots that pass
    min_score. min_area is in frame pixels (frame_height × frame_width), for slots and
    components alike.
    """
    hb, wb = foreground.shape
    labels = np.zeros((hb, wb), dtype=np.uint8)
    # everything below happens inside the foreground's box: usually a small part of the map
    x0, y0, w0, h0 = cv2.boundingRect(foreground)
    if w0 == 0:
        return FusedLabels(labels, [])
    crop = (slice(y0, y0 + h0), slice(x0, x0 + w0))
    pixel = frame_height * frame_width / float(hb * wb)  # frame pixels per map pixel
    count, comp, stats, _ = cv2.connectedComponentsWithStats(foreground[crop], connectivity=8)
    stats[:, cv2.CC_STAT_LEFT] += x0
    stats[:, cv2.CC_STAT_TOP] += y0
    comp_area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    big = comp_area * pixel >= min_area
    big[0] = False
    slot_of = np.full(count, -1, dtype=np.int64)  # the single slot a component goes to
    split: list[tuple[int, np.ndarray]] = []  # (component, touching slot layers) to divide
    if weights is not None and reported is not None and count > 1 and reported.any():
        layers = weights.shape[0]
        h, w = weights.shape[1:]
        owner = _slot_owner(weights, hb, wb)[crop]
        # slot-mode areas in map pixels, counted on the model's own grid
        slot_area = np.bincount(np.argmax(weights, axis=0).ravel(), minlength=layers).astype(
            np.float64
        ) * (hb * wb / float(h * w))
        claimable = np.zeros(layers, dtype=bool)
        claimable[1:] = reported & (slot_area[1:] * pixel >= min_area)
        inside = comp != 0
        overlap = np.bincount(
            comp[inside].astype(np.int64) * layers + owner[inside], minlength=count * layers
        ).reshape(count, layers)
        need = TOUCH_SHARE * np.minimum(comp_area[:, None], slot_area[None, :])
        touch = (overlap >= np.maximum(need, 1.0)) & claimable[None, :] & big[:, None]
        touching = touch.sum(axis=1)
        single = touching == 1
        slot_of[single] = np.argmax(touch[single], axis=1) - 1
        split = [(int(c), np.flatnonzero(touch[c])) for c in np.flatnonzero(touching > 1)]
    # object labels: one per component, or one per slot sharing a divided component
    pieces: list[tuple[int, int]] = []  # (component, slot or -1), the claimed ones first
    pieces += [(int(c), int(slot_of[c])) for c in np.flatnonzero(slot_of >= 0)]
    pieces += [(c, int(k) - 1) for c, ks in split for k in ks]
    divided = {c for c, _ in split}
    unclaimed = [int(c) for c in np.flatnonzero(big & (slot_of < 0)) if int(c) not in divided]
    unclaimed.sort(key=lambda c: -comp_area[c])  # the largest first if the map runs out of labels
    pieces += [(c, -1) for c in unclaimed]
    pieces = pieces[:MAX_OBJECTS]
    lut = np.zeros(count, dtype=np.uint8)
    owner_of_label: dict[int, int] = {}
    boxes: dict[int, list[int]] = {}
    label_of_piece: dict[tuple[int, int], int] = {}
    for label, (c, slot) in enumerate(pieces, start=1):
        owner_of_label[label] = slot
        label_of_piece[(c, slot)] = label
        _grow(boxes, label, stats[c])
        if c not in divided:
            lut[c] = label
    labels[crop] = lut[comp]
    if split and weights is not None:
        planes = {}  # bilinear weights at map size, only for layers that share a component
        for c, ks in split:
            x, y, w, h = (int(v) for v in stats[c, :4])
            mine = comp[y - y0 : y - y0 + h, x - x0 : x - x0 + w] == c
            for k in ks:
                if k not in planes:
                    planes[k] = _upsampled(weights[k], hb, wb)
            local = np.stack([planes[k][y : y + h, x : x + w] for k in ks])
            choice = np.argmax(local, axis=0)
            keep = _merge_long_cuts(choice, mine, len(ks))
            # a piece past MAX_OBJECTS has no label: its pixels leave the foreground
            values = np.array(
                [label_of_piece.get((c, int(ks[keep[i]]) - 1), 0) for i in range(len(ks))],
                np.uint8,
            )
            np.copyto(labels[y : y + h, x : x + w], values[choice], where=mine)
    return FusedLabels(labels, _measure(labels, boxes, owner_of_label, (hb, wb)))


def at_frame_size(fused: FusedLabels, frame_height: int, frame_width: int) -> FusedLabels:
    """A map's labels at the frame's size (one nearest-neighbour resize), each object
    measured again there inside its map box; an object none of whose pixels is the
    nearest map pixel of a frame pixel (a frame smaller than the map) is left out."""
    map_size = (fused.labels.shape[0], fused.labels.shape[1])
    if map_size == (frame_height, frame_width):
        return fused
    labels = to_frame_size(fused.labels, frame_height, frame_width)
    boxes = {o.label: list(o.bbox) for o in fused.objects}
    owners = {o.label: o.slot for o in fused.objects}
    return FusedLabels(labels, _measure(labels, boxes, owners, map_size))


def _merge_long_cuts(choice: np.ndarray, mine: np.ndarray, n: int) -> list[int]:
    """For each piece, the piece it joins: two slots whose cut through the component is long
    next to the smaller piece (cut ≥ NECK · √area) cover one object, not two that touch."""
    area = np.bincount(choice[mine], minlength=n).astype(np.float64)
    cut = np.zeros((n, n))
    for a, b, both in (
        (choice[:, :-1], choice[:, 1:], mine[:, :-1] & mine[:, 1:]),
        (choice[:-1], choice[1:], mine[:-1] & mine[1:]),
    ):
        edge = both & (a != b)
        np.add.at(cut, (a[edge], b[edge]), 1.0)
    cut = cut + cut.T
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            small = min(area[i], area[j])
            if small > 0 and cut[i, j] >= NECK * math.sqrt(small):
                ri, rj = root(i), root(j)
                if ri != rj:  # the larger piece's slot keeps the merged object
                    big, other = (ri, rj) if area[ri] >= area[rj] else (rj, ri)
                    parent[other] = big
                    area[big] += area[other]
    return [root(i) for i in range(n)]


def _grow(boxes: dict[int, list[int]], label: int, stat: np.ndarray) -> None:
    """Union of map-resolution boxes per label: [x0, y0, x1, y1]."""
    x, y, w, h = (int(v) for v in stat[:4])
    box = boxes.get(label)
    if box is None:
        boxes[label] = [x, y, x + w, y + h]
    else:
        box[0], box[1] = min(box[0], x), min(box[1], y)
        box[2], box[3] = max(box[2], x + w), max(box[3], y + h)


def _measure(
    labels: np.ndarray,
    boxes: dict[int, list[int]],
    owner_of_label: dict[int, int],
    map_size: tuple[int, int],
) -> list[FusedObject]:
    """Exact area, box and centroid of each label of `labels` (at any size), searched in its
    box on the `map_size` grid."""
    height, width = labels.shape
    sy, sx = height / map_size[0], width / map_size[1]
    objects = []
    for label in sorted(boxes):
        mx0, my0, mx1, my1 = boxes[label]
        # frame pixels whose nearest map pixel lies in the box, with a pixel of margin
        x0, x1 = max(0, math.floor(mx0 * sx) - 1), min(width, math.ceil(mx1 * sx) + 1)
        y0, y1 = max(0, math.floor(my0 * sy) - 1), min(height, math.ceil(my1 * sy) + 1)
        local = (labels[y0:y1, x0:x1] == label).view(np.uint8)
        bx, by, bw, bh = cv2.boundingRect(local)
        if bw == 0:  # every pixel of the label fell between frame pixels (a tiny frame)
            continue
        m = cv2.moments(local[by : by + bh, bx : bx + bw], binaryImage=True)
        area = m["m00"]
        objects.append(
            FusedObject(
                label=label,
                slot=owner_of_label[label],
                area=int(area),
                bbox=(x0 + bx, y0 + by, x0 + bx + bw, y0 + by + bh),
                centroid=(
                    x0 + (m["m10"] + bx * area) / area,
                    y0 + (m["m01"] + by * area) / area,
                ),
            )
        )
    return objects


def measure_labels(
    labels: np.ndarray,
    slot_of: dict[int, int],
    boxes: dict[int, tuple[int, int, int, int]] | None = None,
) -> list[FusedObject]:
    """The objects of a frame-size label map whose labels were changed after fusion (a
    split blob): those in `boxes` (x0, y0, x1, y1 that hold the label), or, without boxes,
    every label, boxed in one pass over the foreground."""
    if boxes is None:
        boxes = _boxes(labels)
    owners = {label: slot_of.get(label, -1) for label in boxes}
    grown = {label: list(box) for label, box in boxes.items()}
    return _measure(labels, grown, owners, (labels.shape[0], labels.shape[1]))


def _boxes(labels: np.ndarray) -> dict[int, tuple[int, int, int, int]]:
    """x0, y0, x1, y1 of every label of the map."""
    ys, xs = np.nonzero(labels)
    if ys.size == 0:
        return {}
    values = labels[ys, xs]
    order = np.argsort(values, kind="stable")
    values, ys, xs = values[order], ys[order], xs[order]
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    return {
        int(v): (int(x0), int(y0), int(x1) + 1, int(y1) + 1)
        for v, x0, y0, x1, y1 in zip(
            values[starts],
            np.minimum.reduceat(xs, starts),
            np.minimum.reduceat(ys, starts),
            np.maximum.reduceat(xs, starts),
            np.maximum.reduceat(ys, starts),
            strict=True,
        )
    }
