"""Optimal one-to-one assignment (the linear sum assignment problem), in numpy.

The tracker matches a handful of slots to a handful of tracks every frame; this
shortest-augmenting-path Hungarian method with row/column potentials (the
Jonker-Volgenant formulation, O(n^2 m)) is exact and fast at that size, and
keeps scipy out of the runtime's dependencies.
"""

from __future__ import annotations

import numpy as np

# the cost of a pair that must not be matched: above any sum of allowed costs, so a matching
# makes as many allowed pairs as it can (the caller drops the forbidden ones it gets)
FORBIDDEN = 1e6


def linear_sum_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of a minimum-cost matching of min(n, m) pairs, sorted by row.

    Same contract as scipy.optimize.linear_sum_assignment for finite costs.
    """
    matrix = np.asarray(cost, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"the cost matrix must be 2-D, not of shape {matrix.shape}.")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("the cost matrix must be finite; use a large cost for forbidden pairs.")
    if matrix.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    transposed = matrix.shape[0] > matrix.shape[1]
    if transposed:
        matrix = matrix.T
    n, m = matrix.shape
    # 1-based rows and columns, as the method is written: row 0 and column 0 are padding
    # (column 0 is never free, so its entries never count), which keeps every step one
    # whole-array numpy call: at 40 x 40 the calls, not the arithmetic, are the cost
    padded = np.zeros((n + 1, m + 1))
    padded[1:, 1:] = matrix
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    owner = np.zeros(m + 1, dtype=np.int64)  # owner[j]: 1-based row matched to column j
    way = np.zeros(m + 1, dtype=np.int64)
    for row in range(1, n + 1):
        # the search's first step, in a few calls: every column is free and unseen, so the
        # row reaches its cheapest one; when that column is free too (most rows of a
        # tracker's gated costs) the row is matched without the general search
        reduced = padded[row] - u[row] - v
        j1 = int(reduced[1:].argmin()) + 1
        delta = reduced[j1]
        u[row] += delta
        v[0] -= delta
        if owner[j1] == 0:
            owner[j1] = row
            continue
        minv = reduced - delta
        minv[0] = np.inf
        way[1:] = 0
        owner[0] = row
        _search(padded, u, v, owner, way, minv, j1)
    cols = np.flatnonzero(owner[1:] != 0)
    rows = owner[1:][cols] - 1
    if transposed:
        rows, cols = cols, rows
    order = np.argsort(rows)
    return rows[order].astype(np.int64), cols[order].astype(np.int64)


def _search(
    padded: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    owner: np.ndarray,
    way: np.ndarray,
    minv: np.ndarray,
    j0: int,
) -> None:
    """The shortest augmenting path for row owner[0] from its first step (column j0 taken,
    minv the reduced costs less that step's delta), then the matching flipped along it;
    u, v, owner and way are updated in place."""
    used = np.zeros(len(v), dtype=bool)
    used[0] = True
    while True:
        used[j0] = True
        i0 = owner[j0]
        reduced = padded[i0] - u[i0] - v
        free = ~used
        better = free & (reduced < minv)
        np.copyto(minv, reduced, where=better)
        np.copyto(way, j0, where=better)
        candidates = np.where(free, minv, np.inf)
        j1 = int(candidates.argmin())
        delta = candidates[j1]
        u[owner[used]] += delta
        v[used] -= delta
        np.subtract(minv, delta, out=minv, where=free)
        j0 = j1
        if owner[j0] == 0:
            break
    while j0:
        j1 = way[j0]
        owner[j0] = owner[j1]
        j0 = j1
