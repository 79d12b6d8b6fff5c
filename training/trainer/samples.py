"""Sample sheets: what the model makes of a few fixed images, as one PNG a person reads.

Per image, one row: input | background | reconstruction | segmentation overlay | the
layer w_k·L_k of each slot k. A slot that holds one object shows that object alone. The
images are spread evenly over the data (`spread_indices`): on a video, consecutive frames
look alike, so the sheet shows moments from its start to its end instead.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from training.model import ASTSeg

# Distinct colours for slots 1..K (RGB); slot k uses PALETTE[(k - 1) % len].
PALETTE = np.array(
    [
        [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
        [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212],
        [0, 128, 128], [220, 190, 255], [170, 110, 40], [255, 250, 200], [128, 0, 0],
    ],
    dtype=np.float32,
)  # fmt: skip
_GAP = 2
_HEADER = 14


def spread_indices(length: int, count: int) -> list[int]:
    """`count` indices (fewer if `length` is smaller) evenly spaced from 0 to length - 1."""
    if length <= 0 or count <= 0:
        return []
    if count == 1 or length == 1:
        return [0]
    picks = np.linspace(0, length - 1, min(count, length))
    return sorted({int(round(v)) for v in picks})


def overlay(image: np.ndarray, segmentation: np.ndarray) -> np.ndarray:
    """Slots tinted with their palette colour over the image; background left as is."""
    out = image.astype(np.float32)
    labels = segmentation.astype(np.int64)
    colours = PALETTE[(labels - 1) % len(PALETTE)]
    tinted = 0.45 * out + 0.55 * colours
    out = np.where((labels > 0)[..., None], tinted, out)
    return out.clip(0, 255).astype(np.uint8)


def _to_uint8(tensor: torch.Tensor) -> np.ndarray:
    """[3, H, W] in [0, 1] -> uint8 [H, W, 3]."""
    return (tensor.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()


@torch.no_grad()
def sheet_rows(
    model: ASTSeg, images: torch.Tensor, background_images: torch.Tensor | None = None
) -> list[list[np.ndarray]]:
    """One list of uint8 HWC tiles per image (`background_images`: the same frames at the
    background model's size, when it has its own)."""
    out = model(images, background_images=background_images)
    rows = []
    for i in range(images.shape[0]):
        tiles = [
            _to_uint8(images[i]),
            _to_uint8(out.background[i]),
            _to_uint8(out.reconstruction[i]),
            overlay(_to_uint8(images[i]), out.segmentation()[i].cpu().numpy()),
        ]
        weights, layers = out.rendering.weights[i], out.rendering.layers[i]
        tiles += [_to_uint8(weights[k + 1, None] * layers[k]) for k in range(layers.shape[0])]
        rows.append(tiles)
    return rows


def compose(rows: list[list[np.ndarray]], title: str) -> np.ndarray:
    """Tiles on a grid with column labels, upscaled so 64-pixel tiles stay readable."""
    h, w = rows[0][0].shape[:2]
    scale = max(1, 128 // max(h, w))
    th, tw = h * scale, w * scale
    columns = len(rows[0])
    labels = ["input", "background", "reconstruction", "segmentation"]
    labels += [f"slot {k}" for k in range(1, columns - 3)]
    width = columns * tw + (columns + 1) * _GAP
    height = _HEADER * 2 + len(rows) * th + (len(rows) + 1) * _GAP
    sheet = np.full((height, width, 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(sheet, title, (_GAP, _HEADER - 3), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    for c, label in enumerate(labels):
        x = _GAP + c * (tw + _GAP)
        cv2.putText(sheet, label, (x, 2 * _HEADER - 3), font, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    for r, tiles in enumerate(rows):
        y = 2 * _HEADER + _GAP + r * (th + _GAP)
        for c, tile in enumerate(tiles):
            x = _GAP + c * (tw + _GAP)
            sheet[y : y + th, x : x + tw] = cv2.resize(
                tile, (tw, th), interpolation=cv2.INTER_NEAREST
            )
    return sheet


def sheet_png(
    model: ASTSeg, images: torch.Tensor, title: str, background_images: torch.Tensor | None = None
) -> bytes:
    """The sample sheet of `images` (float [N, 3, H, W] in [0, 1]) as PNG bytes."""
    sheet = compose(sheet_rows(model, images, background_images), title)
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError("OpenCV could not encode the sample sheet as PNG")
    return encoded.tobytes()
