"""The runtime's light matching (sdk.fixed_camera.illumination) for training batches, in torch.

The slot phase reconstructs each frame over the frozen background. After a light switch or
during a drift the background model, trained for minutes, is too bright or too dark
everywhere, and the slots would be asked to paint the light. So the training relights the
frozen background exactly as the runtime does before it compares frame and background:
per cell of a 2×2 grid and per channel, the median of the frame over the median of the
background, smoothed bilinearly to full size. Keep in step with sdk/fixed_camera/illumination.py.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

GRID = (2, 2)
MIN_GAIN, MAX_GAIN = 0.2, 5.0
STEP = 2


def match_illumination(
    images: torch.Tensor, backgrounds: torch.Tensor, grid: tuple[int, int] = GRID
) -> torch.Tensor:
    """`backgrounds` [N, 3, H, W] relit to `images` (same shape, same 0-1 scale); the gain
    is measured without gradient, so a loss on the result still trains the background."""
    with torch.no_grad():
        gain = illumination_gain(images, backgrounds, grid)
    return (backgrounds * gain).clamp(0.0, 1.0)


def illumination_gain(
    images: torch.Tensor, backgrounds: torch.Tensor, grid: tuple[int, int] = GRID
) -> torch.Tensor:
    """[N, 3, H, W] gains with images ≈ gain · backgrounds (cell medians, smoothed)."""
    n, channels, height, width = images.shape
    rows, cols = grid
    ys = torch.linspace(0, height, rows + 1).long().tolist()
    xs = torch.linspace(0, width, cols + 1).long().tolist()
    cells = images.new_empty(n, channels, rows, cols)
    for r in range(rows):
        for c in range(cols):
            f = images[:, :, ys[r] : ys[r + 1] : STEP, xs[c] : xs[c + 1] : STEP]
            b = backgrounds[:, :, ys[r] : ys[r + 1] : STEP, xs[c] : xs[c + 1] : STEP]
            f_med = f.reshape(n, channels, -1).median(dim=-1).values * 255.0
            b_med = b.reshape(n, channels, -1).median(dim=-1).values * 255.0
            cells[:, :, r, c] = ((f_med + 1.0) / (b_med + 1.0)).clamp(MIN_GAIN, MAX_GAIN)
    return F.interpolate(cells, size=(height, width), mode="bilinear", align_corners=False)
