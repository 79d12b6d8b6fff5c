"""The post-processing `sdk.postprocess` replaced, kept only as the reference its labels are
checked against: every layer resized to the whole frame (cv2.resize, INTER_LINEAR), compared
inside the box around the model's foreground (and each layer's own box of weights at or above
1/(K+1)). Exact, but its cost grows with K × frame pixels.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def _span(first: int, last: int, n_src: int, n_out: int) -> tuple[int, int]:
    """Output indices whose interpolation touches source indices first..last (with margin)."""
    scale = n_out / n_src
    start = math.floor((first - 0.5) * scale - 0.5)
    stop = math.ceil((last + 1.5) * scale - 0.5) + 1
    return max(0, start), min(n_out, stop)


def _resized(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    # the whole frame (separable, float weights) costs less than warping only the window
    source = np.ascontiguousarray(plane, dtype=np.float32)
    return cv2.resize(source, (width, height), interpolation=cv2.INTER_LINEAR)


def _frame_box(marked: np.ndarray, height: int, width: int) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1): the frame pixels whose interpolation touches a marked model pixel."""
    rows = np.flatnonzero(marked.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(marked.any(axis=0))
    h, w = marked.shape
    y0, y1 = _span(int(rows[0]), int(rows[-1]), h, height)
    x0, x1 = _span(int(cols[0]), int(cols[-1]), w, width)
    return y0, y1, x0, x1


def reference_labels(
    weights: np.ndarray, segmentation: np.ndarray, height: int, width: int
) -> np.ndarray:
    """Labels [H, W] from one image's weights [K+1, h, w] and argmax [h, w], as before."""
    layers, h, w = weights.shape
    seg = segmentation.astype(np.uint8, copy=False)
    if (h, w) == (height, width):
        return seg.copy()
    labels = np.zeros((height, width), dtype=np.uint8)
    window = _frame_box(seg != 0, height, width)
    if window is None:
        return labels
    y0, y1, x0, x1 = window
    best = _resized(weights[0], height, width)[y0:y1, x0:x1]
    for layer in range(1, layers):
        # where a layer stays under 1/(K+1) it cannot win, so it is compared only in its own box
        box = _frame_box(weights[layer] >= (1.0 / layers) - 1e-3, height, width)
        if box is None:
            continue
        ly0, ly1 = max(box[0], y0), min(box[1], y1)
        lx0, lx1 = max(box[2], x0), min(box[3], x1)
        if ly0 >= ly1 or lx0 >= lx1:
            continue
        up = _resized(weights[layer], height, width)[ly0:ly1, lx0:lx1]
        held = best[ly0 - y0 : ly1 - y0, lx0 - x0 : lx1 - x0]
        np.copyto(labels[ly0:ly1, lx0:lx1], layer, where=up > held)  # ties keep the lower layer
        np.maximum(held, up, out=held)
    return labels
