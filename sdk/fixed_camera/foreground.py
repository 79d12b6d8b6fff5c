"""The fixed-camera foreground: where a frame differs from the learned background by more
than the background model expects (DESIGN §3, the background paper's rule).

With l1 the mean over RGB of |frame − background| on the 0–255 scale and ê the
predicted noise on the same scale, a pixel is foreground when

    3 · max(0, l1 − α₂ · ê) > α₁ · mean_RGB(background)

then a `close`×`close` closing fills pinholes and a `open`×`open` opening removes
specks. The paper's constants (α₁ = 96/255, α₂ = 7, 5×5 closing, 7×7 opening) assume a
noise head trained for tens of thousands of steps; with the few hundred steps a CPU
budget gives, ê stays high everywhere and α₂ = 7 erases most objects (foreground F
0.23 on our noisy synthetic camera). The defaults (`ForegroundRule`, in the manifest's
types) were picked once, on our own synthetic cameras (docs/runtime.md, "Fixed-camera
mode"), and a bundle's manifest may set its own. The rule runs at the background graph's
own resolution (about 320 px on the long side, never the slot model's 64×64): the
graph's input is already that size, and the kernels are meant in its pixels. The mask
is then brought to the frame's size with one nearest-neighbour resize, which keeps every
frame pixel's value equal to the background-resolution pixel it falls in (the fused
labels rely on that).
"""

from __future__ import annotations

import cv2
import numpy as np

from sdk.bundle.manifest import ForegroundRule
from sdk.fixed_camera.illumination import match_illumination


def _kernel(side: int) -> np.ndarray | None:
    return cv2.getStructuringElement(cv2.MORPH_RECT, (side, side)) if side > 1 else None


def foreground_mask(
    image: np.ndarray, background: np.ndarray, noise: np.ndarray, rule: ForegroundRule
) -> np.ndarray:
    """uint8 {0, 1} [Hb, Wb] from the graph's input and outputs for one frame.

    image: uint8 [3, Hb, Wb] (what the background graph was given); background: float
    [3, Hb, Wb] in [0, 1]; noise: float [1, Hb, Wb] or [Hb, Wb] in [0, 1].
    """
    b = background.astype(np.float32, copy=False) * np.float32(255.0)
    if rule.relight:
        b = match_illumination(image, b)
    diff = np.abs(image.astype(np.float32) - b)
    # 3·l1 = Σ_c |x_c − b_c| and mean_RGB(b)·3 = Σ_c b_c: compare sums, two divisions fewer
    excess = diff.sum(axis=0) - np.float32(3.0 * rule.alpha2 * rule.noise_scale) * noise.reshape(
        diff.shape[1:]
    )
    mask = (excess > np.float32(rule.alpha1 / 3.0) * b.sum(axis=0)).view(np.uint8)
    closing, opening = _kernel(rule.close), _kernel(rule.open)
    if closing is not None:
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, closing)
    if opening is not None:
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, opening)
    return mask


def to_frame_size(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of a uint8 map to height×width (a no-op at the same size)."""
    if mask.shape == (height, width):
        return mask
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
