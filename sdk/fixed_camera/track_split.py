"""Split a fused blob that covers two objects tracked apart a moment ago (issue 21).

When two objects touch, the foreground joins them into one connected blob, and when the
slots do not tell them apart, fusion reports one object. The tracks knew better one frame
earlier: each had its own mask. Each track's last mask is moved by its velocity; a blob
that holds a good share (TrackerConfig.split_share) of two or more of these predicted
masks is divided among them, each blob pixel going to the nearest predicted mask (a
distance transform per track, inside the blob's box). Where predicted masks overlap, the
larger one is taken to be in front: an object that passes behind a larger one loses its
visible share, is not given a piece of it, and coasts (sdk.tracker) until it comes out.
The pieces stay a partition of the blob, so the fused labels remain a partition of the
foreground. Given the frames' colours (sdk.fixed_camera.split_appearance), colour decides
who is in front where moved masks overlap, and each pixel goes to the track whose colours
explain it best less a cost for its distance from that track's moved mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sdk.fixed_camera.split_appearance import (
    DISTANCE_SCALE,
    MASK_PRIOR,
    FrameColours,
    TrackColours,
    hues_apart,
    log_probability,
)

MAX_LABEL = 255  # the label map is uint8


@dataclass(frozen=True)
class PredictedMask:
    """A track's mask where its motion puts it this frame, as a crop of the frame."""

    x0: int
    y0: int
    mask: np.ndarray  # bool [h, w]
    colours: TrackColours | None = None  # the track's colours (None: not known)
    # the track's mean chromaticity; None: no hue (black, or not measured), which counts
    # as apart from any hue (split_appearance.hues_apart)
    hue: np.ndarray | None = None


def clip_to_box(
    p: PredictedMask, box: tuple[int, int, int, int]
) -> tuple[slice, slice, np.ndarray]:
    """The part of p inside box (x0, y0, x1, y1): rows and columns relative to the box, and
    the mask's matching part (empty when they do not meet)."""
    h, w = p.mask.shape
    x0, y0 = max(p.x0, box[0]), max(p.y0, box[1])
    x1, y1 = max(min(p.x0 + w, box[2]), x0), max(min(p.y0 + h, box[3]), y0)
    part = p.mask[y0 - p.y0 : y1 - p.y0, x0 - p.x0 : x1 - p.x0]
    return slice(y0 - box[1], y1 - box[1]), slice(x0 - box[0], x1 - box[0]), part


def split_by_tracks(
    labels: np.ndarray,
    boxes: dict[int, tuple[int, int, int, int]],
    predicted: list[PredictedMask],
    min_share: float,
    colours: FrameColours | None = None,
) -> tuple[np.ndarray, dict[int, int]]:
    """Divide each blob of `labels` (uint8 [H, W], 0 background; `boxes`: each label's x0,
    y0, x1, y1) that shows at least `min_share` of two or more predicted masks. Returns the
    labels (a new array when something was split) and {new label: the label it was cut
    from}. `colours`: this frame at the labels' size. A blob is split by colour and distance
    when every candidate mask carries its colours and some two of them are of different
    hues (split_appearance.hues_apart); otherwise, and without `colours`, by distance
    alone."""
    cut_from: dict[int, int] = {}
    if len(predicted) < 2:
        return labels, cut_from
    areas = np.array([float(np.count_nonzero(p.mask)) for p in predicted])
    candidates = _candidates(labels, boxes, predicted, areas, min_share)
    free = [v for v in range(MAX_LABEL, 0, -1) if v not in boxes]
    copied = False
    for blob, ks in candidates.items():
        if len(ks) < 2 or blob not in boxes:
            continue
        x0, y0, x1, y1 = boxes[blob]
        mine = labels[y0:y1, x0:x1] == blob
        colour = None
        if (
            colours is not None
            and all(predicted[k].colours is not None for k in ks)
            and hues_apart([predicted[k].hue for k in ks])
        ):
            colour = _colour_scores(colours, predicted, ks, boxes[blob])
        owner = _front(mine.shape, predicted, ks, areas, boxes[blob], colour)
        seen = np.bincount(owner[mine], minlength=len(predicted) + 1)
        tracks = [k + 1 for k in ks if seen[k + 1] >= min_share * max(areas[k], 1.0)]
        if len(tracks) < 2 or len(free) < len(tracks) - 1:
            continue  # one object hidden behind another, or no labels left: kept whole
        new = [free.pop() for _ in tracks[1:]]
        values = np.array([blob, *new], dtype=np.uint8)
        if colour is None:
            pieces = _nearest(owner, tracks, values)  # each keeps the pixels it shows
        else:
            pieces = _best_explained(owner, tracks, values, colour, areas)
            # a track can lose every pixel to the others' colours: only pieces that got
            # some are objects, and a blob left in one piece was not split
            got = set(np.unique(pieces[mine]).tolist())
            free.extend(v for v in reversed(new) if v not in got)
            new = [v for v in new if v in got]
            if len(got) < 2:
                continue
        for v in new:
            cut_from[v] = blob
        if not copied:
            labels, copied = labels.copy(), True  # the caller's map stays as it was
        np.copyto(labels[y0:y1, x0:x1], pieces, where=mine)
    return labels, cut_from


def _colour_scores(
    image: FrameColours,
    predicted: list[PredictedMask],
    ks: list[int],
    box: tuple[int, int, int, int],
) -> dict[int, np.ndarray]:
    """{mask k: [h, w] log probability of each pixel of the box under k's last colours}."""
    shares = []
    for k in ks:
        colours = predicted[k].colours
        assert colours is not None
        shares.append(colours.shares)
    x0, y0, x1, y1 = box
    now = image.bins[y0:y1, x0:x1]
    return {k: log_probability(share)[now] for k, share in zip(ks, shares, strict=True)}


def _front(
    shape: tuple[int, ...],
    predicted: list[PredictedMask],
    ks: list[int],
    areas: np.ndarray,
    box: tuple[int, int, int, int],
    colour: dict[int, np.ndarray] | None,
) -> np.ndarray:
    """Which mask (k + 1; 0 none) each pixel of the box shows. Where masks overlap, the
    one whose colours explain the pixel better is in front; without colours (or on a tie)
    the larger is."""
    # the narrowest type that numbers every mask (uint8 below 256: cheaper to count)
    owner = np.zeros(shape, dtype=np.min_scalar_type(len(predicted)))
    best = None if colour is None else np.full(shape, -np.inf, dtype=np.float32)
    for k in sorted(ks, key=lambda k: areas[k]):  # larger masks last: they win ties
        rows, cols, part = clip_to_box(predicted[k], box)
        if best is not None and colour is not None:
            score = colour[k][rows, cols]
            part = part & (score >= best[rows, cols])
            np.copyto(best[rows, cols], score, where=part)
        np.copyto(owner[rows, cols], k + 1, where=part)
    return owner


def _candidates(
    labels: np.ndarray,
    boxes: dict[int, tuple[int, int, int, int]],
    predicted: list[PredictedMask],
    areas: np.ndarray,
    min_share: float,
) -> dict[int, list[int]]:
    """{blob: the predicted masks (in order) of which it holds at least `min_share`}, for
    the blobs that may hold two, keyed in order of the first mask that finds each blob.

    Only a blob whose box overlaps the boxes of two or more masks by their share can hold
    two, so only those blobs and the masks that overlap them are counted."""
    height, width = labels.shape
    clips = [clip_to_box(p, (0, 0, width, height)) for p in predicted]
    blobs = np.array(sorted(boxes), dtype=np.int64)
    if not len(blobs):
        return {}
    # x0, y0, x1, y1 of each mask's part in the frame, and of each blob
    spans = np.array([(c.start, r.start, c.stop, r.stop) for r, c, _ in clips]).reshape(-1, 4)
    blob_boxes = np.array([boxes[b] for b in blobs.tolist()]).reshape(-1, 4)
    # a blob holds no more of a mask than the overlap of their boxes
    overlap_w = np.minimum(spans[:, None, 2], blob_boxes[None, :, 2]) - np.maximum(
        spans[:, None, 0], blob_boxes[None, :, 0]
    )
    overlap_h = np.minimum(spans[:, None, 3], blob_boxes[None, :, 3]) - np.maximum(
        spans[:, None, 1], blob_boxes[None, :, 1]
    )
    needed = min_share * np.maximum(areas, 1.0)
    overlap = np.maximum(overlap_w, 0) * np.maximum(overlap_h, 0)
    meet = (overlap > 0) & (overlap >= needed[:, None])
    shared = meet.sum(axis=0) >= 2
    masks = np.flatnonzero(meet[:, shared].any(axis=1))
    if len(masks) < 2:
        return {}
    bins = MAX_LABEL + 1
    # a histogram of the uint8 labels under each mask: one histogram of (mask, label) pairs
    # spent most of its time widening every pixel to int64
    under = (labels[clips[k][0], clips[k][1]][clips[k][2]] for k in masks.tolist())
    counts = np.array([np.bincount(values, minlength=bins) for values in under])
    held = counts >= needed[masks][:, None]
    wanted = np.zeros(bins, dtype=bool)
    wanted[blobs[shared]] = True  # the background (0) is never in boxes
    held &= wanted[None, :]
    candidates: dict[int, list[int]] = {}
    for row, blob in zip(*(i.tolist() for i in np.nonzero(held)), strict=True):
        candidates.setdefault(blob, []).append(int(masks[row]))
    return candidates


def _best_explained(
    owner: np.ndarray,
    tracks: list[int],
    values: np.ndarray,
    colour: dict[int, np.ndarray],
    areas: np.ndarray,
) -> np.ndarray:
    """Per pixel of the box, values[j] for the track tracks[j] (k + 1) with the best score:
    the log probability of the pixel's colour under its colours, plus MASK_PRIOR where its
    moved mask shows the pixel (owner), less one per DISTANCE_SCALE × its size outside."""
    best = np.full(owner.shape, -np.inf, dtype=np.float32)
    pieces = np.full(owner.shape, values[0], dtype=values.dtype)
    for j, k in enumerate(tracks):
        outside = (owner != k).view(np.uint8)
        inside = outside == 0
        score = cv2.distanceTransform(outside, cv2.DIST_L2, 3)
        score *= np.float32(-1.0 / (DISTANCE_SCALE * max(float(np.sqrt(areas[k - 1])), 1.0)))
        score += colour[k - 1]
        np.add(score, np.float32(MASK_PRIOR), out=score, where=inside)
        np.copyto(pieces, values[j], where=score > best)
        np.maximum(best, score, out=best)
    return pieces


def _nearest(owner: np.ndarray, tracks: list[int], values: np.ndarray) -> np.ndarray:
    """Per pixel of the box, values[j] for the nearest predicted mask tracks[j] (the first
    on a tie, as argmin): a running minimum, not a stack of every distance map."""

    def distance(k: int) -> np.ndarray:
        return cv2.distanceTransform((owner != k).view(np.uint8), cv2.DIST_L2, 3)

    best = distance(tracks[0])
    nearest = np.full(owner.shape, values[0], dtype=values.dtype)
    for j, k in enumerate(tracks[1:], start=1):
        d = distance(k)
        np.copyto(nearest, values[j], where=d < best)
        if j < len(tracks) - 1:  # the last map needs no running minimum after it
            np.minimum(best, d, out=best)
    return nearest
