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
foreground.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MAX_LABEL = 255  # the label map is uint8


@dataclass(frozen=True)
class PredictedMask:
    """A track's mask where its motion puts it this frame, as a crop of the frame."""

    x0: int
    y0: int
    mask: np.ndarray  # bool [h, w]


def _clip(p: PredictedMask, box: tuple[int, int, int, int]) -> tuple[slice, slice, np.ndarray]:
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
) -> tuple[np.ndarray, dict[int, int]]:
    """Divide each blob of `labels` (uint8 [H, W], 0 background; `boxes`: each label's x0,
    y0, x1, y1) that shows at least `min_share` of two or more predicted masks. Returns the
    labels (a new array when something was split) and {new label: the label it was cut
    from}."""
    cut_from: dict[int, int] = {}
    if len(predicted) < 2:
        return labels, cut_from
    height, width = labels.shape
    frame = (0, 0, width, height)
    areas = np.array([float(p.mask.sum()) for p in predicted])
    candidates: dict[int, list[int]] = {}  # blob -> predicted masks it may hold
    for k, p in enumerate(predicted):
        rows, cols, part = _clip(p, frame)
        counts = np.bincount(labels[rows, cols][part], minlength=MAX_LABEL + 1)
        for found in np.flatnonzero(counts >= min_share * max(areas[k], 1.0)):
            if found:
                candidates.setdefault(int(found), []).append(k)
    free = [v for v in range(MAX_LABEL, 0, -1) if v not in boxes]
    for blob, ks in candidates.items():
        if len(ks) < 2 or blob not in boxes:
            continue
        x0, y0, x1, y1 = boxes[blob]
        mine = labels[y0:y1, x0:x1] == blob
        # larger masks last: where two overlap, the larger is in front and owns the pixels
        owner = np.zeros(mine.shape, dtype=np.int32)
        for k in sorted(ks, key=lambda k: areas[k]):
            rows, cols, part = _clip(predicted[k], boxes[blob])
            np.copyto(owner[rows, cols], np.int32(k + 1), where=part)
        seen = np.bincount(owner[mine], minlength=len(predicted) + 1)
        tracks = [k + 1 for k in ks if seen[k + 1] >= min_share * max(areas[k], 1.0)]
        if len(tracks) < 2 or len(free) < len(tracks) - 1:
            continue  # one object hidden behind another, or no labels left: kept whole
        # distance from each blob pixel to each track's predicted mask, inside the box
        distance = np.stack(
            [cv2.distanceTransform((owner != k).view(np.uint8), cv2.DIST_L2, 3) for k in tracks]
        )
        values = np.array([blob] + [free.pop() for _ in tracks[1:]], dtype=np.uint8)
        for v in values[1:]:
            cut_from[int(v)] = blob
        if len(cut_from) == len(values) - 1:
            labels = labels.copy()  # the first split: the caller's map stays as it was
        np.copyto(labels[y0:y1, x0:x1], values[np.argmin(distance, axis=0)], where=mine)
    return labels, cut_from
