"""Map the model's layer weights back to the original frame and measure each slot's region.

A frame pixel gets the layer with the largest bilinearly interpolated weight, in the
pixel-centre geometry of OpenCV's INTER_LINEAR resize (source = (x + 0.5)·w/W − 0.5,
clamped at the borders), so a mask lines up with the frame exactly (no half-pixel shift,
no letterbox offset) and its outline is smoother than the model's grid.

The cost does not grow with K × frame pixels. The two-by-two model pixels a frame pixel
interpolates from make its *cell*; the frame is a grid of (h+1)×(w+1) cells, each a
rectangle of frame pixels. Where a cell's four corners share one argmax, every pixel in
it has that label (a convex combination keeps the order), so those cells are filled by
repeating the model-resolution labels. Only the cells on a label boundary, a few per
cent of the frame, are interpolated pixel by pixel, in one vectorised pass per layer
over a stack of cell-sized blocks; in each such cell a layer is skipped when its largest
corner weight is below the smallest weight the winner is sure to have there.

Labels also carry, per slot, the frame box its pixels can lie in (from the cells), so a
region is measured inside that box alone, and its full-frame mask is made only when
asked for (`SlotRegion.mask`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # y0, y1, x0, x1: rows y0:y1, columns x0:x1


@dataclass(frozen=True)
class LabelStats:
    """Exact measures of one label's pixels (integer sums, so nothing is rounded)."""

    area: int
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1; the box covers x0 <= x < x1
    sum_x: int  # sum of the pixels' column indices
    sum_y: int  # sum of their row indices


@dataclass(frozen=True)
class FrameLabels:
    """Slot labels at frame resolution: 0 = background, k = slot k-1.

    Only the window rows y0:y1, columns x0:x1 can hold foreground; outside it is 0.
    `stats[k]`, when given, measures label k (None: no pixel); else slot_regions counts.
    """

    labels: np.ndarray  # uint8 [H, W]
    y0: int
    y1: int
    x0: int
    x1: int
    stats: tuple[LabelStats | None, ...] | None = None  # indexed by label; entry 0 unused

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


@dataclass(frozen=True)
class _Axis:
    """How the frame pixels along one axis fall into cells (cell c lies between model
    pixels c-1 and c; cells 0 and n are the clamped borders)."""

    counts: np.ndarray  # int64 [n+1]: frame pixels in each cell (0 when the frame is smaller)
    starts: np.ndarray  # int64 [n+1]: first frame pixel of each cell
    sums: np.ndarray  # int64 [n+1]: sum of the frame pixel indices in each cell
    near: np.ndarray  # float32 [n+1, longest]: each pixel's weight of model pixel c-1
    far: np.ndarray  # float32 [n+1, longest]: its weight of model pixel c (0 as padding)
    inside: np.ndarray  # bool [n+1, longest]: which of the `longest` places are pixels


@lru_cache(maxsize=32)
def _axis(n_src: int, n_out: int) -> _Axis:
    # cv::resize: scale = 1/(out/in) in double, positions rounded to float, floor, clamp
    scale = 1.0 / (n_out / n_src)
    pos = ((np.arange(n_out, dtype=np.float64) + 0.5) * scale - 0.5).astype(np.float32)
    first = np.floor(pos)
    frac = pos - first
    low, high = first < 0, first >= n_src - 1
    frac[low | high] = 0.0
    cell = np.where(low, 0, np.where(high, n_src, first.astype(np.int64) + 1))
    counts = np.bincount(cell, minlength=n_src + 1).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    sums = np.bincount(cell, weights=np.arange(n_out), minlength=n_src + 1).astype(np.int64)
    local = np.arange(n_out) - starts[cell]
    near = np.zeros((n_src + 1, int(counts.max())), np.float32)
    far = np.zeros_like(near)
    inside = np.zeros(near.shape, bool)
    near[cell, local] = np.float32(1.0) - frac
    far[cell, local] = frac
    inside[cell, local] = True
    for table in (counts, starts, sums, near, far, inside):
        table.flags.writeable = False  # shared by every frame of this size
    return _Axis(counts, starts, sums, near, far, inside)


def _span(axis: _Axis, first: int, last: int) -> tuple[int, int]:
    """Frame pixels of cells first..last (inclusive)."""
    return int(axis.starts[first]), int(axis.starts[last] + axis.counts[last])


def _blend(
    corners: np.ndarray, fx: tuple[np.ndarray, np.ndarray], fy: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Bilinear values [n, longest_y, longest_x] in n cells from their corners [4, n]
    (top-left, top-right, bottom-left, bottom-right); horizontal first, as OpenCV blends."""
    a, b, c, d = (corner[:, None, None] for corner in corners)
    return (a * fx[0] + b * fx[1]) * fy[0] + (c * fx[0] + d * fx[1]) * fy[1]


def _boundary_blocks(
    weights: np.ndarray, rr: np.ndarray, cc: np.ndarray, ay: _Axis, ax: _Axis
) -> np.ndarray:
    """Per-pixel argmax in the boundary cells (rr, cc): uint8 [n, longest_y, longest_x],
    K+1 where a block runs past its cell."""
    layers = weights.shape[0]
    pw = np.pad(weights.astype(np.float32, copy=False), ((0, 0), (1, 1), (1, 1)), mode="edge")
    corners = np.stack([pw[:, rr, cc], pw[:, rr, cc + 1], pw[:, rr + 1, cc], pw[:, rr + 1, cc + 1]])
    # at any pixel the winner's weight is at least every layer's smallest corner weight, so a
    # layer whose corners all stay below that cannot win there (the margin covers rounding)
    candidate = corners.max(axis=0) >= corners.min(axis=0).max(axis=0) - 1e-6
    fx = (ax.near[cc][:, None, :], ax.far[cc][:, None, :])
    fy = (ay.near[rr][:, :, None], ay.far[rr][:, :, None])
    # most cells have two candidates a < b (each corner's argmax is one): b wins where the
    # blend of w_b - w_a is positive, ties keep a
    cells = np.arange(rr.size)
    low = candidate.argmax(axis=0)
    high = layers - 1 - candidate[::-1].argmax(axis=0)
    margin = _blend(corners[:, high, cells] - corners[:, low, cells], fx, fy)
    labels = np.empty(margin.shape, np.uint8)
    labels[:] = low.astype(np.uint8)[:, None, None]
    np.copyto(labels, high.astype(np.uint8)[:, None, None], where=margin > 0)
    many = np.flatnonzero(candidate.sum(axis=0) > 2)
    if many.size:  # three or more candidates: every one of them, in order
        best = np.full((many.size, *margin.shape[1:]), -np.inf, np.float32)
        chosen = np.zeros(best.shape, np.uint8)
        for layer in range(layers):
            if not candidate[layer, many].any():
                continue
            value = _blend(
                corners[:, layer, many], (fx[0][many], fx[1][many]), (fy[0][many], fy[1][many])
            )
            value[~candidate[layer, many]] = -np.inf
            np.copyto(chosen, np.uint8(layer), where=value > best)
            np.maximum(best, value, out=best)
        labels[many] = chosen
    labels[~(ay.inside[rr][:, :, None] & ax.inside[cc][:, None, :])] = layers
    return labels


def _label_stats(
    fill: np.ndarray,
    blocks: np.ndarray | None,
    rr: np.ndarray,
    cc: np.ndarray,
    layers: int,
    ay: _Axis,
    ax: _Axis,
) -> tuple[LabelStats | None, ...]:
    """Each label's measures: closed forms over its uniform cells, plus its pixels in the
    boundary blocks counted per block column and per block row (one bincount each)."""
    if blocks is not None:
        n, tall, wide = blocks.shape
        kinds = layers + 1  # the labels and the padding
        cell = np.arange(n)[:, None, None]
        per_col = np.bincount(
            (((cell * wide + np.arange(wide)) * kinds) + blocks).ravel(),
            minlength=n * wide * kinds,
        ).reshape(n, wide, kinds)
        per_row = np.bincount(
            (((cell * tall + np.arange(tall)[:, None]) * kinds) + blocks).ravel(),
            minlength=n * tall * kinds,
        ).reshape(n, tall, kinds)
        xpos = ax.starts[cc][:, None] + np.arange(wide)
        ypos = ay.starts[rr][:, None] + np.arange(tall)
    stats: list[LabelStats | None] = [None]
    for label in range(1, layers):
        cells = fill == label  # uniform cells only: boundary cells hold 0 in `fill`
        area = sum_x = sum_y = 0
        x0 = y0 = np.iinfo(np.int64).max
        x1 = y1 = -1
        if cells.any():
            area = int(ay.counts @ cells @ ax.counts)
            sum_x = int(ay.counts @ cells @ ax.sums)
            sum_y = int(ay.sums @ cells @ ax.counts)
            used_r, used_c = np.flatnonzero(cells.any(axis=1)), np.flatnonzero(cells.any(axis=0))
            y0, y1 = _span(ay, int(used_r[0]), int(used_r[-1]))
            x0, x1 = _span(ax, int(used_c[0]), int(used_c[-1]))
        if blocks is not None:
            cols, rows = per_col[:, :, label], per_row[:, :, label]
            found = int(cols.sum())
            if found:
                area += found
                sum_x += int((cols * xpos).sum())
                sum_y += int((rows * ypos).sum())
                at_x, at_y = xpos[cols > 0], ypos[rows > 0]
                x0, x1 = min(x0, int(at_x.min())), max(x1, int(at_x.max()) + 1)
                y0, y1 = min(y0, int(at_y.min())), max(y1, int(at_y.max()) + 1)
        stats.append(LabelStats(area, (x0, y0, x1, y1), sum_x, sum_y) if area else None)
    return tuple(stats)


def frame_labels(
    weights: np.ndarray, segmentation: np.ndarray, height: int, width: int
) -> FrameLabels:
    """Labels for a height×width frame from one image's weights [K+1, h, w] and argmax [h, w]."""
    layers, h, w = weights.shape
    seg = segmentation.astype(np.uint8, copy=False)
    if (h, w) == (height, width):
        return FrameLabels(seg.copy(), 0, height, 0, width)
    labels = np.zeros((height, width), dtype=np.uint8)
    ay, ax = _axis(h, height), _axis(w, width)
    padded = np.pad(seg, 1, mode="edge")  # cell (r, c) has the corners padded[r:r+2, c:c+2]
    tl, tr, bl, br = padded[:-1, :-1], padded[:-1, 1:], padded[1:, :-1], padded[1:, 1:]
    uniform = (tl == tr) & (tl == bl) & (tl == br)
    occupied = (ay.counts > 0)[:, None] & (ax.counts > 0)[None, :]
    touched = ((tl | tr | bl | br) != 0) & occupied
    rows, cols = np.flatnonzero(touched.any(axis=1)), np.flatnonzero(touched.any(axis=0))
    if rows.size == 0:
        return FrameLabels(labels, 0, 0, 0, 0, stats=(None,) * layers)
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    y0, y1 = _span(ay, r0, r1)
    x0, x1 = _span(ax, c0, c1)
    fill = np.where(uniform & occupied, tl, 0).astype(np.uint8)  # boundary cells come next
    labels[y0:y1, x0:x1] = np.repeat(
        np.repeat(fill[r0 : r1 + 1, c0 : c1 + 1], ay.counts[r0 : r1 + 1], axis=0),
        ax.counts[c0 : c1 + 1],
        axis=1,
    )
    rr, cc = np.nonzero(~uniform & occupied)
    blocks = _boundary_blocks(weights, rr, cc, ay, ax) if rr.size else None
    if blocks is not None:
        spans = zip(
            ay.starts[rr].tolist(),
            ay.counts[rr].tolist(),
            ax.starts[cc].tolist(),
            ax.counts[cc].tolist(),
            strict=True,
        )
        for i, (y, ny, x, nx) in enumerate(spans):
            labels[y : y + ny, x : x + nx] = blocks[i, :ny, :nx]
    stats = _label_stats(fill, blocks, rr, cc, layers, ay, ax)
    return FrameLabels(labels, y0, y1, x0, x1, stats=stats)


def _count(frame: FrameLabels, label: int) -> LabelStats | None:
    """Measure a label by looking at its pixels (labels that came without stats)."""
    local = (frame.window == label).view(np.uint8)
    x, y, w, h = cv2.boundingRect(local)
    if w == 0:
        return None
    moments = cv2.moments(local[y : y + h, x : x + w], binaryImage=True)
    area = int(moments["m00"])
    ox, oy = frame.x0 + x, frame.y0 + y
    # integer sums, so shifting the box's moments by its corner is exact
    return LabelStats(
        area,
        (ox, oy, ox + w, oy + h),
        int(round(moments["m10"])) + ox * area,
        int(round(moments["m01"])) + oy * area,
    )


def slot_regions(frame: FrameLabels, num_slots: int, min_area: int = 1) -> list[SlotRegion]:
    """One region per slot owning at least `min_area` pixels, with exact box and centroid."""
    if frame.y0 >= frame.y1 or frame.x0 >= frame.x1:
        return []
    regions = []
    for label in range(1, num_slots + 1):
        if frame.stats is not None:
            stats = frame.stats[label] if label < len(frame.stats) else None
        else:
            stats = _count(frame, label)
        if stats is None or stats.area < max(1, min_area):
            continue
        regions.append(
            SlotRegion(
                slot=label - 1,
                area=stats.area,
                bbox=stats.bbox,
                centroid=(stats.sum_x / stats.area, stats.sum_y / stats.area),
                labels=frame.labels,
            )
        )
    return regions
