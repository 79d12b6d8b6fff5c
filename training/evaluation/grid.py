"""The evaluation picture: one row per image of input | reconstruction | predicted
segmentation | ground truth, and the label colours it (and `astseg demo`) uses."""

from __future__ import annotations

import math

import cv2
import numpy as np

from training.evaluation.types import GridRow

_HEADERS = ("input", "reconstruction", "segmentation", "ground truth")
_BACKGROUND_COLOUR = (32, 32, 32)


def colourise(labels: np.ndarray) -> np.ndarray:
    """Label map -> RGB: 0 dark grey, each id its own hue (golden-ratio spacing)."""
    ids = np.asarray(labels, np.int64)
    hue = ((ids * 0.618033988749895) % 1.0 * 180).astype(np.uint8)
    hsv = np.stack([hue, np.full_like(hue, 200), np.full_like(hue, 235)], axis=-1)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    rgb[ids == 0] = _BACKGROUND_COLOUR
    return rgb


def _tile(content: np.ndarray | None, size: tuple[int, int]) -> np.ndarray:
    if content is None:
        tile = np.full((*size, 3), 96, np.uint8)
        cv2.putText(tile, "n/a", (4, size[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (200,) * 3, 1)
        return tile
    return cv2.resize(content, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)


def draw_grid(rows: list[GridRow]) -> np.ndarray:
    """One row per image: input | reconstruction | predicted segmentation | ground truth."""
    height, width = rows[0][0].shape[:2]
    scale = max(1, math.ceil(128 / max(height, width)))
    size = (height * scale, width * scale)
    gap = 4
    header = np.full((18, 4 * size[1] + 3 * gap, 3), 255, np.uint8)
    for k, text in enumerate(_HEADERS):
        cv2.putText(
            header, text, (k * (size[1] + gap) + 2, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1
        )
    lines = [header]
    for image, recon, seg, truth in rows:
        recon_u8 = None if recon is None else np.clip(np.rint(recon * 255), 0, 255).astype(np.uint8)
        tiles = [
            _tile(image, size),
            _tile(recon_u8, size),
            _tile(colourise(seg), size),
            _tile(None if truth is None else colourise(truth), size),
        ]
        spacer = np.full((size[0], gap, 3), 255, np.uint8)
        lines.append(
            np.concatenate([tiles[0], spacer, tiles[1], spacer, tiles[2], spacer, tiles[3]], 1)
        )
        lines.append(np.full((gap, header.shape[1], 3), 255, np.uint8))
    return np.concatenate(lines, 0)
