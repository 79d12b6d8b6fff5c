"""Spatial softmax, soft-argmax positions and attention pooling (paper eqs 11-16)."""

from __future__ import annotations

import torch


def normalised_coordinates(height: int, width: int) -> torch.Tensor:
    """[2, H, W] pixel coordinates on [-1, 1] as in eqs 12-13: first pixel -1, last +1."""
    xs = torch.linspace(-1.0, 1.0, width) if width > 1 else torch.zeros(1)
    ys = torch.linspace(-1.0, 1.0, height) if height > 1 else torch.zeros(1)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y])


def spatial_softmax(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over the pixels of each map: [N, K, H, W] -> [N, K, H*W], rows sum to 1."""
    return torch.softmax(logits.flatten(2), dim=-1)


def competing_logits(attention_logits: torch.Tensor) -> torch.Tensor:
    """[N, K, h, w] logits plus the log of each slot's share at its pixel (softmax over K):
    where another slot attends far more strongly, this slot's logit falls by the gap, so two
    slots rarely settle on one object (`model.slot_competition`)."""
    return attention_logits + torch.log_softmax(attention_logits, dim=1)


def soft_argmax_and_pool(
    attention_logits: torch.Tensor, features: torch.Tensor, coordinates: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions (eqs 14-15) and attention-pooled features (eq 16).

    attention_logits: [N, K, h, w]; features: [N, C, h, w]; coordinates: [2, h, w].
    Returns positions [N, K, 2] and pooled features [N, K, C].
    """
    weights = spatial_softmax(attention_logits)  # [N, K, P]
    positions = torch.einsum("nkp,cp->nkc", weights, coordinates.flatten(1))
    pooled = torch.einsum("nkp,ncp->nkc", weights, features.flatten(2))
    return positions, pooled
