"""Export-only modules around the trained submodules: preprocessing in, contract names out.

They hold the trained `SlotEncoder` and `Renderer` themselves (no copies of weights)
and return plain tensor tuples in the order of `export.spec`. The renderer graph
places only the mask channel of each glimpse: the layer weights and the
segmentation do not depend on the glimpse colours, so sampling them would cost
three quarters of the GridSample work for outputs nobody reads. Parity against
`Renderer.forward` itself (export.parity) proves the two agree.
"""

from __future__ import annotations

import torch
from torch import nn

from training.model.background import BackgroundModel
from training.model.renderer import Renderer, composite_weights
from training.model.slot_encoder import SlotEncoder


class EncoderGraph(nn.Module):
    """uint8 RGB [N, 3, H, W] -> (position, scale, log_activation, z_what)."""

    def __init__(self, encoder: SlotEncoder) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # ÷255 here; SlotEncoder applies the model's own mean/std to [0, 1] input.
        latents = self.encoder(image.float() / 255.0)
        return latents.position, latents.scale, latents.log_activation, latents.z_what


class RendererGraph(nn.Module):
    """Latents -> (weights [N, K+1, H, W] float32, segmentation [N, H, W] int64)."""

    def __init__(self, renderer: Renderer) -> None:
        super().__init__()
        self.renderer = renderer

    def forward(
        self,
        position: torch.Tensor,
        scale: torch.Tensor,
        log_activation: torch.Tensor,
        z_what: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        r = self.renderer
        n, k = log_activation.shape
        masks = r.glimpses(z_what.reshape(n * k, -1))[:, 3:]
        placed = r.placer(masks, position.reshape(n * k, 2), scale.reshape(n * k, -1))
        placed = placed.reshape(n, k, r.placer.height, r.placer.width)
        weights = r.merged(composite_weights(log_activation, r.log_background_activation, placed))
        return weights, weights.argmax(dim=1)


class SegmenterGraph(nn.Module):
    """uint8 image -> the encoder outputs followed by weights and segmentation."""

    def __init__(self, encoder: SlotEncoder, renderer: Renderer) -> None:
        super().__init__()
        self.encoder = EncoderGraph(encoder)
        self.renderer = RendererGraph(renderer)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        latents = self.encoder(image)
        return (*latents, *self.renderer(*latents))


class BackgroundGraph(nn.Module):
    """uint8 RGB [N, 3, Hb, Wb] -> (background [N, 3, Hb, Wb], noise [N, 1, Hb, Wb])."""

    def __init__(self, background: BackgroundModel) -> None:
        super().__init__()
        self.background = background

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.background(image.float() / 255.0)
