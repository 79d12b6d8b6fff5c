"""Sample sheet for research runs: input | background | reconstruction | segmentation | slots."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from training.model import ASTSeg

PALETTE = np.array(
    [
        [0, 0, 0],
        [230, 25, 75],
        [60, 180, 75],
        [255, 225, 25],
        [0, 130, 200],
        [245, 130, 48],
        [145, 30, 180],
        [70, 240, 240],
        [240, 50, 230],
        [210, 245, 60],
        [250, 190, 190],
    ],
    np.uint8,
)


@torch.no_grad()
def write_sheet(model: ASTSeg, images: torch.Tensor, path: Path, zoom: int = 3) -> None:
    """One row per image; each slot column shows w_k · L_k on black."""
    model.eval()
    out = model(images)
    model.train()
    seg = out.segmentation().cpu().numpy()
    rows = []
    for i in range(images.shape[0]):
        tiles = [images[i], out.background[i], out.reconstruction[i]]
        tiles = [(t.permute(1, 2, 0).cpu().numpy() * 255).astype(np.uint8) for t in tiles]
        overlay = (0.5 * tiles[0] + 0.5 * PALETTE[seg[i] % len(PALETTE)]).astype(np.uint8)
        tiles.append(overlay)
        for k in range(out.rendering.layers.shape[1]):
            layer = out.weights[i, k + 1, None] * out.rendering.layers[i, k]
            tiles.append((layer.permute(1, 2, 0).cpu().numpy() * 255).astype(np.uint8))
        rows.append(np.concatenate(tiles, axis=1))
    sheet = np.concatenate(rows, axis=0)
    sheet = cv2.resize(sheet, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), sheet[..., ::-1])
