"""The noise a pixel shows against the learnt background, measured and kept up to date.

The rule (sdk.foreground) tolerates α₂·ê grey levels of difference at each pixel. A bundle
trained with `model.background_noise: measured` gives ê as a map measured on the footage
itself: the per-pixel median of |frame − background| over the training frames, high on
leaves, water, fine texture and wherever the model is simply wrong. A scene keeps changing
after training (a branch grows, a sign is put up, the light moves across a wall), so the
runtime keeps the map current the way classical subtractors keep their pixel statistics
(approximate-median filtering): each frame moves every pixel's value one step towards its
current difference, a full step where the frame is background and `FOREGROUND_RATE` of a
step under a detected object, so a passing car barely changes the map while a region that
is wrong in every frame is absorbed within a few hundred frames instead of staying
foreground forever.
"""

from __future__ import annotations

import numpy as np

STEP = 0.5  # grey levels a pixel's estimate moves per frame outside objects
FOREGROUND_RATE = 0.125  # the fraction of a step it moves under a detected object


class ResidualNoise:
    """A running per-pixel median of the frame's difference from the background."""

    def __init__(self, initial: np.ndarray) -> None:
        self.map = np.array(initial, dtype=np.float32)  # [H, W], grey levels (0-255 l1)

    def update(self, difference: np.ndarray, foreground: np.ndarray) -> None:
        """`difference` [H, W] l1 grey levels of this frame; `foreground` [H, W] {0, 1}."""
        if difference.shape != self.map.shape:  # another background size: start again
            self.map = np.zeros(difference.shape, dtype=np.float32)
        step = np.where(foreground > 0, np.float32(STEP * FOREGROUND_RATE), np.float32(STEP))
        self.map += np.sign(difference - self.map).astype(np.float32) * step
        np.maximum(self.map, 0.0, out=self.map)
