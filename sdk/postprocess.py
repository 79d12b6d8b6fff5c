"""Map the model's layer weights back to the original frame and measure each slot's region.

A pixel of the original frame gets the layer with the largest bilinearly
interpolated weight, using the same pixel-centre geometry as the resize that
made the model input, so a mask lines up with the frame exactly (no half-pixel
shift, no letterbox offset) and its outline is smoother than the model's grid.

Two exact shortcuts keep this cheap at 640×480: where all four model pixels
around a frame pixel share the same argmax, that layer wins the interpolation
too (a convex combination keeps the order), so only the box around the model's
foreground is compared; and a layer whose weight stays below 1/(K+1) can never
be the argmax of weights that sum to one, so each layer is compared only inside
the box around its model pixels at or above that.

Regions are measured per slot inside its own box, and a region's full-frame
mask is made only when asked for (`SlotRegion.mask`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass(frozen=True)
class FrameLabels:
    """Slot labels at frame resolution: 0 = background, k = slot k-1.

    Only the window rows y0:y1, columns x0:x1 can hold foreground; outside it is 0.
    """

    labels: np.ndarray  # uint8 [H, W]
    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def window(self) -> np.ndarray:
        return self.labels[self.y0 : self.y1, self.x0 : self.x1]


@dataclass(frozen=True)
class SlotRegion:
    """The pixels one slot owns in the frame."""

    slot: int  # 0-based slot index
    area: int  # pixels
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1; the box covers x0 <= x < x1
    centroid: tuple[float, float]  # x, y in pixel coordinates (pixel centres at integers)
    labels: np.ndarray = field(repr=False)  # the frame's uint8 labels the region comes from

    @property
    def mask(self) -> np.ndarray:
        """bool [H, W]; made on request, since most frames never need a full-size mask."""
        return self.labels == self.slot + 1


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


def frame_labels(
    weights: np.ndarray, segmentation: np.ndarray, height: int, width: int
) -> FrameLabels:
    """Labels for a height×width frame from one image's weights [K+1, h, w] and argmax [h, w]."""
    layers, h, w = weights.shape
    seg = segmentation.astype(np.uint8, copy=False)
    if (h, w) == (height, width):
        return FrameLabels(seg.copy(), 0, height, 0, width)
    labels = np.zeros((height, width), dtype=np.uint8)
    window = _frame_box(seg != 0, height, width)
    if window is None:
        return FrameLabels(labels, 0, 0, 0, 0)
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
    return FrameLabels(labels, y0, y1, x0, x1)


def slot_regions(frame: FrameLabels, num_slots: int, min_area: int = 1) -> list[SlotRegion]:
    """One region per slot owning at least `min_area` pixels, with exact box and centroid."""
    window = frame.window
    if window.size == 0:
        return []
    regions = []
    for label in range(1, num_slots + 1):
        # one compare over the window per label, then only its box (a histogram costs more)
        local = (window == label).view(np.uint8)
        x, y, w, h = cv2.boundingRect(local)
        if w == 0:
            continue
        moments = cv2.moments(local[y : y + h, x : x + w], binaryImage=True)
        m00 = moments["m00"]
        if m00 < max(1, min_area):
            continue
        regions.append(
            SlotRegion(
                slot=label - 1,
                area=int(m00),
                bbox=(frame.x0 + x, frame.y0 + y, frame.x0 + x + w, frame.y0 + y + h),
                # integer sums, so shifting the box's moments by its corner is exact
                centroid=(
                    frame.x0 + (moments["m10"] + x * m00) / m00,
                    frame.y0 + (moments["m01"] + y * m00) / m00,
                ),
                labels=frame.labels,
            )
        )
    return regions
