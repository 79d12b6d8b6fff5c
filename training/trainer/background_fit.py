"""Does the trained background explain the footage? Measured once after phase 1 and said in
one line, so a user never learns it from 35 specks a frame at run time (issue 20).

The runtime's own rule (sdk.fixed_camera.foreground, with the bundle's parameters) runs on
frames spread over the footage; past sdk.fixed_camera.fit_monitor's `TOO_MUCH` the model
has not learnt the scene, and the run says so with the runtime's own sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from sdk.bundle.manifest import ForegroundRule
from sdk.fixed_camera.fit_monitor import TOO_MUCH, failing_fit_message
from sdk.fixed_camera.foreground import foreground_mask
from training.model.background import BackgroundModel

# Grey levels per channel the rule may demand at a typical pixel (α₂ × the noise map's
# median) before the fit is called blind: fitted backgrounds on the two CDnet slices demand
# 10 and 11, the run that missed its footage's light 98 (docs/cpu-recipe.md §12.2).
BLIND_AT = 40.0


def foreground_shares(
    model: BackgroundModel, images: torch.Tensor, rule: dict[str, Any]
) -> np.ndarray:
    """The share of each frame ([N, 3, H, W] in [0, 1]) the runtime rule calls foreground."""
    known = {k: v for k, v in rule.items() if k in ForegroundRule.__dataclass_fields__}
    parsed = ForegroundRule(**known)
    shares = []
    with torch.no_grad():
        for start in range(0, len(images), 16):
            batch = images[start : start + 16]
            background, noise = (t.float().cpu().numpy() for t in model(batch))
            frames = batch.clamp(0, 1).mul(255).round().to(torch.uint8).cpu().numpy()
            for frame, b, n in zip(frames, background, noise, strict=True):
                shares.append(float(foreground_mask(frame, b, n, parsed).mean()))
    return np.array(shares)


def blind_fit_message(noise_median: float, alpha2: float, relight: bool) -> str | None:
    """The warning for a noise map so high the rule can hardly fire, or None: a run whose
    background missed the footage's light had a median of 32.5 grey levels, so a pixel
    needed about 100 levels of difference per channel and the fused output found nothing
    (docs/cpu-recipe.md §11.4); fitted backgrounds need well under `BLIND_AT`."""
    needed = alpha2 * noise_median
    if needed <= BLIND_AT:
        return None
    advice = "train the background longer (--set train.background_steps=N)"
    if not relight:
        advice += " or, if the light changes, match it (--set model.foreground_rule.relight=1)"
    return (
        f"warning: the background model is unsure of this camera everywhere: with a noise map "
        f"median of {noise_median:.1f} grey levels a pixel must differ from the background by "
        f"about {needed:.0f} grey levels per channel to count as foreground, so most objects "
        f"will be missed; {advice}."
    )


def describe_fit(
    shares: np.ndarray,
    noise_levels: np.ndarray | None,
    alpha2: float = 0.0,
    relight: bool = False,
) -> tuple[str, bool]:
    """(the line to print, whether it is a warning)."""
    median = float(np.median(shares)) if len(shares) else 0.0
    noise = (
        f"; noise map median {float(np.median(noise_levels)):.1f}, 95th percentile "
        f"{float(np.percentile(noise_levels, 95)):.1f} grey levels"
        if noise_levels is not None
        else ""
    )
    line = (
        f"background fit: a median {100 * median:.1f} % of each frame is foreground on "
        f"{len(shares)} frames{noise}"
    )
    if median > TOO_MUCH:
        return failing_fit_message(median, len(shares)), True
    blind = None
    if noise_levels is not None:
        blind = blind_fit_message(float(np.median(noise_levels)), alpha2, relight)
    if blind is not None:
        return f"{line}\n{blind}", True
    return line, False


def report_background_fit(
    echo: Callable[[str], None],
    model: BackgroundModel,
    images: torch.Tensor,
    rule: dict[str, Any],
    noise_levels: np.ndarray | None,
) -> bool:
    """Print the fit line (or the warning); True when it warned."""
    alpha2 = float(rule.get("alpha2", ForegroundRule.alpha2))
    relight = bool(rule.get("relight", 0))
    shares = foreground_shares(model, images, rule)
    line, warned = describe_fit(shares, noise_levels, alpha2, relight)
    echo(line)
    return warned
