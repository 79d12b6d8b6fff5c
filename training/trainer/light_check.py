"""Whether the runtime matches the background's light to each frame, decided from the
footage after phase 1 (`model.light_from_data`, on in the `cpu` preset).

Each sampled frame is compared with the model's background for it twice: as it is, and
relit to the frame (sdk.fixed_camera.illumination, the runtime's own matching). The
statistic is each frame's median difference, averaged over the frames, because a light the
model missed moves a whole frame at once and may last only part of the footage (the
per-pixel median over frames, which the noise map is, hides a lamp that is off a third of
the time). Matching is kept only where it removes more than half of that difference, and at
least one grey level: a light change the background model did not learn. On the default
model's footage, whose lamp switches every 3 000 frames, phase 1 kept one light for every
frame and the rule without matching found nothing (docs/cpu-recipe.md §11.4, §12). On
steady real footage matching buys nothing and costs F, because cars pull the 2×2 cells'
medians (CDnet traffic: 0.63 with, 0.81 without, §8), so it stays off there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from training.model.background import BackgroundModel
from training.trainer.background_statistics import noise_map, residuals

# Matching is kept when it leaves less than this share of the frames' median difference...
KEEP_IF_RESIDUAL_BELOW = 0.5
# ... and removes at least this many grey levels (below it, rounding decides, not light).
MIN_GAIN_GREY_LEVELS = 1.0


@dataclass(frozen=True)
class LightChoice:
    relight: bool  # what this process measured (DDP ranks agree on it before use)
    plain: torch.Tensor  # [H, W] noise maps, on the 0-1 scale, without and with matching
    relit: torch.Tensor
    residual_without: float  # grey levels: the mean over frames of each frame's median
    residual_with: float

    def noise(self, relight: bool) -> torch.Tensor:
        return self.relit if relight else self.plain

    def line(self, relight: bool) -> str:
        verdict = "on" if relight else "off"
        return (
            f"light matching {verdict}: a frame's median difference from its background is "
            f"{self.residual_without:.1f} grey levels without it and {self.residual_with:.1f} "
            "with it"
        )


def frame_residual(differences: np.ndarray) -> float:
    """The mean over frames of each frame's median difference ([N, H, W], grey levels)."""
    return float(np.median(differences.reshape(len(differences), -1), axis=1).mean())


def choose_light_matching(
    model: BackgroundModel, frames: torch.Tensor, max_shift: float
) -> LightChoice:
    """Both comparisons of `frames` ([N, 3, H, W] in [0, 1]) and the choice they make."""
    plain, relit = residuals(model, frames, max_shift, (False, True))
    without, with_matching = frame_residual(plain), frame_residual(relit)
    keep = (
        with_matching < KEEP_IF_RESIDUAL_BELOW * without
        and without - with_matching >= MIN_GAIN_GREY_LEVELS
    )
    return LightChoice(keep, noise_map(plain), noise_map(relit), without, with_matching)
