"""Split a fused blob that covers two objects tracked apart a moment ago (issue 21).

When two objects touch, the foreground joins them into one connected blob, and when the
slots do not tell them apart, fusion reports one object. The tracks knew better one frame
earlier: each had its own mask. Each track's last mask is moved by its velocity; a blob
that holds a good share (`MIN_SHARE`) of two or more of these predicted masks is divided
among them, each blob pixel going to the nearest predicted mask (a distance transform per
track, inside the blob's box). Where predicted masks overlap, the larger one is taken to be
in front: an object that passes behind a larger one loses its visible share, is not given
a piece of it, and coasts (sdk.tracker) until it comes out. The pieces stay a partition
of the blob, so the fused labels remain a partition of the foreground.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_SHARE = 0.3  # of a predicted mask inside a blob for the blob to hold that object
MAX_LABEL = 255  # the label map is uint8


@dataclass(frozen=True)
class PredictedMask:
    """A track's mask where its motion puts it this frame, as a crop of the frame."""

    x0: int
    y0: int
    mask: np.ndarray  # bool [h, w]


def _paint(owner: np.ndarray, predicted: list[PredictedMask]) -> np.ndarray:
    """Areas inside the frame, painting owner[y, x] = index + 1 of the predicted mask."""
    height, width = owner.shape
    areas = np.zeros(len(predicted) + 1)
    # larger masks last: where two overlap, the larger is in front and owns the pixels
    for k in sorted(range(1, len(predicted) + 1), key=lambda k: predicted[k - 1].mask.sum()):
        p = predicted[k - 1]
        h, w = p.mask.shape
        x0, y0, x1, y1 = max(p.x0, 0), max(p.y0, 0), min(p.x0 + w, width), min(p.y0 + h, height)
        if x1 <= x0 or y1 <= y0:
            continue
        part = p.mask[y0 - p.y0 : y1 - p.y0, x0 - p.x0 : x1 - p.x0]
        np.copyto(owner[y0:y1, x0:x1], np.int32(k), where=part)
        areas[k] = float(part.sum())
    return areas


def split_by_tracks(labels: np.ndarray, predicted: list[PredictedMask]) -> dict[int, int]:
    """Divide, in place, each blob of `labels` (uint8 [H, W], 0 background) that holds two or
    more predicted masks; returns {new label: the blob's label it was cut from}."""
    if len(predicted) < 2:
        return {}
    owner = np.zeros(labels.shape, dtype=np.int32)
    areas = _paint(owner, predicted)
    n = len(predicted) + 1
    fg = labels > 0
    overlap = np.bincount(
        labels[fg].astype(np.int64) * n + owner[fg], minlength=(MAX_LABEL + 1) * n
    ).reshape(MAX_LABEL + 1, n)
    holds = overlap[:, 1:] >= MIN_SHARE * np.maximum(areas[None, 1:], 1.0)
    holds[0] = False
    free = [v for v in range(MAX_LABEL, 0, -1) if not overlap[v].any()]
    cut_from: dict[int, int] = {}
    for blob in np.flatnonzero(holds.sum(axis=1) >= 2):
        tracks = np.flatnonzero(holds[blob]) + 1
        if len(free) < len(tracks) - 1:
            break  # no labels left: the blob stays whole
        mine = labels == blob
        x, y, w, h = cv2.boundingRect(mine.view(np.uint8))
        local = owner[y : y + h, x : x + w]
        # distance from each blob pixel to each track's predicted mask, inside the box
        distance = np.stack(
            [cv2.distanceTransform((local != k).view(np.uint8), cv2.DIST_L2, 3) for k in tracks]
        )
        choice = np.argmin(distance, axis=0)
        values = np.array([int(blob)] + [free.pop() for _ in tracks[1:]], dtype=np.uint8)
        for v in values[1:]:
            cut_from[int(v)] = int(blob)
        np.copyto(labels[y : y + h, x : x + w], values[choice], where=mine[y : y + h, x : x + w])
    return cut_from
