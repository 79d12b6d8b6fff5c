"""Foreground on evidence, not area: a region counts when some pixel of it is sure.

A difference just above the threshold is what noise, texture and compression produce in
small patches everywhere; a real object differs by several thresholds somewhere inside. So
the rule keeps a connected region of above-threshold pixels only when at least one of its
pixels exceeds `ratio` times its threshold (hysteresis thresholding, as in Canny's edge
detector): the region keeps its full extent, weak specks go, whatever their size.
"""

from __future__ import annotations

import cv2
import numpy as np


def keep_evident(weak: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """uint8 {0, 1}: the 8-connected regions of `weak` that contain a pixel of `strong`."""
    if not strong.any():
        return np.zeros_like(weak)
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    if count <= 1:
        return weak
    keep = np.zeros(count, dtype=np.uint8)
    keep[labels[strong.astype(bool) & (weak > 0)]] = 1
    keep[0] = 0
    return keep[labels]
