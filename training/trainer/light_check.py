"""Whether the runtime matches the background's light to each frame, decided from the
footage after phase 1 (`model.light_from_data`, on in the `cpu` preset).

Each sampled frame is compared with the model's background for it twice: as it is, and
relit to the frame (sdk.fixed_camera.illumination, the runtime's own matching). The
statistic is each frame's median residual, averaged over the frames, because a light the
model missed moves a whole frame at once and may last only part of the footage (the
per-pixel median over frames, which the noise map is, hides a lamp that is off a third of
the time). Matching is kept only where it removes at least half of that residual: a light
change the background model did not learn. On the default model's footage, whose lamp
switches every 3 000 frames, the autoencoder kept one mid-grey light for every frame and the
rule, without matching, needed about 100 grey levels of difference per channel and found
nothing (docs/cpu-recipe.md §11.4-11.5). On steady real footage matching buys nothing and
costs F, because cars pull the 2×2 cells' medians (CDnet traffic: 0.63 with, 0.81 without,
§8), so it stays off there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from training.model.background import BackgroundModel
from training.trainer.background_statistics import noise_map, residuals

# Matching is kept when it leaves less than this share of the frames' median residual.
KEEP_IF_RESIDUAL_BELOW = 0.5


@dataclass(frozen=True)
class LightChoice:
    relight: bool
    noise: torch.Tensor  # [H, W] noise map under the choice, on the 0-1 scale
    residual_without: float  # grey levels: the mean over frames of each frame's median
    residual_with: float

    def line(self) -> str:
        verdict = "on" if self.relight else "off"
        return (
            f"light matching {verdict}: a frame's median difference from its background is "
            f"{self.residual_without:.1f} grey levels without it and {self.residual_with:.1f} "
            "with it"
        )


def _frame_residual(differences: np.ndarray) -> float:
    return float(np.median(differences.reshape(len(differences), -1), axis=1).mean())


def choose_light_matching(
    model: BackgroundModel, frames: torch.Tensor, max_shift: float
) -> LightChoice:
    """Both comparisons of `frames` ([N, 3, H, W] in [0, 1]) and the rule's choice."""
    plain = residuals(model, frames, max_shift, relight=False)
    relit = residuals(model, frames, max_shift, relight=True)
    without, with_matching = _frame_residual(plain), _frame_residual(relit)
    keep = with_matching < KEEP_IF_RESIDUAL_BELOW * without  # strict: 0 and 0 keep it off
    return LightChoice(keep, noise_map(relit if keep else plain), without, with_matching)
