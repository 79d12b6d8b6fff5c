"""Algorithm 2: slot latents (+ background) -> layer weights, reconstruction, segmentation."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from training.config import ModelConfig
from training.model.duplicate_slots import merge_duplicate_slots
from training.model.glimpse_generator import GlimpseGenerator, glimpse_size_for
from training.model.latents import SlotLatents
from training.model.spatial_transformer import GlimpsePlacer, at_least_float32


@dataclass
class Rendering:
    weights: torch.Tensor  # [N, K+1, H, W], layer 0 = background, sums to 1 per pixel
    layers: torch.Tensor  # [N, K, 3, H, W] placed object colours
    masks: torch.Tensor  # [N, K, H, W] placed object masks M_k

    def segmentation(self) -> torch.Tensor:
        """[N, H, W] int64: argmax over the K+1 weights (0 = background)."""
        return self.weights.argmax(dim=1)

    def reconstruct(self, background: torch.Tensor) -> torch.Tensor:
        """Eq 18: Σ_k w_k L_k with L_0 = background [N, 3, H, W]."""
        w = self.weights
        objects = (w[:, 1:, None] * self.layers).sum(dim=1)
        return w[:, :1] * background + objects


def composite_weights(
    log_activation: torch.Tensor, log_background_activation: torch.Tensor, masks: torch.Tensor
) -> torch.Tensor:
    """Eq 17 with M_0 = 1: w_k = α_k M_k / Σ_k' α_k' M_k'.

    The α are shifted by their per-image maximum before exp so that log α up to
    any size neither overflows nor changes the result (the ratio is invariant).
    """
    n = log_activation.shape[0]
    logs = torch.cat([log_background_activation.expand(n, 1), log_activation], dim=1)
    alphas = torch.exp(logs - logs.amax(dim=1, keepdim=True))  # [N, K+1]
    full = torch.cat([torch.ones_like(masks[:, :1]), masks], dim=1)  # [N, K+1, H, W]
    weighted = alphas[:, :, None, None] * full
    return weighted / weighted.sum(dim=1, keepdim=True).clamp_min(1e-30)


class Renderer(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        size = config.glimpse_size or glimpse_size_for(config.image_height, config.image_width)
        self.duplicate_slot_overlap = config.duplicate_slot_overlap
        self.glimpses = GlimpseGenerator(config.z_what_dim, size, config.glimpse_window)
        self.placer = GlimpsePlacer(config.image_height, config.image_width)
        # α_0: the background's learned activation, e^11 at initialisation (Table 6).
        self.log_background_activation = nn.Parameter(
            torch.tensor([[config.log_background_activation]])
        )

    def forward(self, latents: SlotLatents) -> Rendering:
        n, k = latents.log_activation.shape
        rgba = self.glimpses(latents.z_what.reshape(n * k, -1))
        placed = self.placer(
            rgba, latents.position.reshape(n * k, 2), latents.scale.reshape(n * k, -1)
        )
        placed = placed.view(n, k, 4, self.placer.height, self.placer.width)
        layers, masks = placed[:, :, :3], placed[:, :, 3]
        with torch.autocast(device_type=masks.device.type, enabled=False):
            weights = composite_weights(
                at_least_float32(latents.log_activation),
                self.log_background_activation,
                at_least_float32(masks),
            )
            weights = self.merged(weights)
        return Rendering(weights=weights, layers=layers, masks=masks)

    def merged(self, weights: torch.Tensor) -> torch.Tensor:
        """Duplicate slots merged at inference (`model.duplicate_slot_overlap` > 0); the
        training loss sees every slot."""
        if self.training or self.duplicate_slot_overlap <= 0:
            return weights
        return merge_duplicate_slots(weights, self.duplicate_slot_overlap)
