"""Losses: reconstruction and pixel entropy (eqs 19-22), and the background's robust loss."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

ENTROPY_EPS = 1e-20


def pixel_error(reconstruction: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Eq 19 squared: per pixel, the L1 error summed over colours (dim -3), squared. Any
    leading dims; `images` broadcasts (e.g. [N, 1, 3, H, W] against [N, K, 3, H, W])."""
    return (reconstruction - images).abs().sum(dim=-3).square()


def reconstruction_loss(reconstruction: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Eq 20: mean over pixels of the squared per-pixel L1 error summed over colours (eq 19)."""
    return pixel_error(reconstruction, images).mean()


def pixel_entropy_loss(weights: torch.Tensor) -> torch.Tensor:
    """Eq 21: mean over pixels of the squared entropy of the K+1 layer weights."""
    entropy = -(weights * torch.log(weights + ENTROPY_EPS)).sum(dim=1)
    return entropy.square().mean()


@dataclass
class LossTerms:
    total: torch.Tensor
    reconstruction: torch.Tensor
    pixel_entropy: torch.Tensor
    pixel_entropy_weight: float
    # Our addition, not the paper's (`coverage_loss`); None when its weight is 0.
    coverage: torch.Tensor | None = None
    coverage_weight: float = 0.0
    # Our addition (`training.slot_redundancy`); None when its weight is 0 or before its start.
    redundancy: torch.Tensor | None = None
    redundancy_weight: float = 0.0


def foreground_loss(
    reconstruction: torch.Tensor,
    images: torch.Tensor,
    weights: torch.Tensor,
    pixel_entropy_weight: float,
) -> LossTerms:
    """Eq 22, with the warm-up factor already folded into `pixel_entropy_weight`."""
    rec = reconstruction_loss(reconstruction, images)
    ent = pixel_entropy_loss(weights)
    return LossTerms(rec + pixel_entropy_weight * ent, rec, ent, pixel_entropy_weight)


# Robust background loss (DESIGN §3).
SMOOTH_L1_BETA = 3.0  # on the 0-255 scale
WEIGHT_BETA = 6.0
WINDOW_RATIO = 75.0
TAU_1 = 0.25
TAU_0 = 0.24


def robust_pixel_error(images: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """e in [0, 3]: Σ_c smoothL1_β=3 on the 0-255 scale, divided by 255. Shape [N, 1, H, W]."""
    per_channel = F.smooth_l1_loss(
        background * 255.0, images * 255.0, beta=SMOOTH_L1_BETA, reduction="none"
    )
    return per_channel.sum(dim=1, keepdim=True) / 255.0


def background_loss(
    images: torch.Tensor, background: torch.Tensor, predicted_error: torch.Tensor
) -> torch.Tensor:
    """Down-weights pixels in neighbourhoods the background fails on (likely foreground)."""
    error = robust_pixel_error(images, background)
    with torch.no_grad():
        width = images.shape[-1]
        window = 2 * int(width / WINDOW_RATIO) + 1
        local = F.avg_pool2d(
            torch.tanh(error / TAU_1),
            window,
            stride=1,
            padding=window // 2,
            count_include_pad=False,
        )
        pixel_weight = torch.exp(-WEIGHT_BETA * local)
    # The noise head is weighted like the fit: left unweighted, it outweighs the fit by up
    # to e^6 while the background is still poor everywhere (all weights ~e^-6), and since
    # both share the whole generator, Adam then follows the head and the background stays
    # grey (seen at 240x320: l1 70 grey levels after 300 steps).
    error_head = F.smooth_l1_loss(
        predicted_error, (error / 3.0).detach(), beta=SMOOTH_L1_BETA / 255.0, reduction="none"
    )
    return (pixel_weight * (error + error_head)).mean()


def background_is_complex(backgrounds: torch.Tensor) -> bool:
    """True when reconstructed backgrounds vary enough to need the long schedule (τ₀ test)."""
    # contiguous(): median over dim 0 of an expanded (stride-0) tensor is wrong in torch 2.13.
    backgrounds = backgrounds.contiguous()
    median = backgrounds.median(dim=0, keepdim=True).values
    spread = (backgrounds - median).abs().sum(dim=1)  # 0-3 scale like the robust error
    return bool(torch.tanh(spread / TAU_1).mean() > TAU_0)


def coverage_loss(
    weights: torch.Tensor, images: torch.Tensor, background: torch.Tensor, tau: float
) -> torch.Tensor:
    """Our addition, not the paper's: a label-free localisation cue for early training.

    Pulls the foreground coverage Σ_{k≥1} w_k (= 1 − w_0) of each pixel towards
    tanh(e / τ), where e is the background's robust error (`robust_pixel_error`): pixels
    the background cannot explain should be covered by some slot, the others by none.
    The target is detached, so only the foreground model learns from it. Mean squared
    difference over pixels, in [0, 1].
    """
    with torch.no_grad():
        target = torch.tanh(robust_pixel_error(images, background.detach()) / tau)
    coverage = weights[:, 1:].sum(dim=1, keepdim=True)  # exact where w_0 rounds to 1
    return (coverage - target).square().mean()
