"""The plain-loop split (a histogram and a distance stack per mask) that
sdk.fixed_camera.track_split.split_by_tracks computed before it was vectorised; the tests
hold the fast one to exactly its output."""

from __future__ import annotations

import cv2
import numpy as np

from sdk.fixed_camera.track_split import MAX_LABEL, PredictedMask, clip_to_box


def reference_split_by_tracks(
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
        rows, cols, part = clip_to_box(p, frame)
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
            rows, cols, part = clip_to_box(predicted[k], boxes[blob])
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
