"""AST-Seg: slot encoder + renderer + background autoencoder (paper Fig. 1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from training.config import ModelConfig
from training.model.background import BackgroundModel
from training.model.latents import SlotLatents
from training.model.renderer import Renderer, Rendering
from training.model.slot_encoder import SlotEncoder


@dataclass
class ModelOutput:
    latents: SlotLatents
    rendering: Rendering
    background: torch.Tensor  # [N, 3, H, W] in [0, 1]
    background_error: torch.Tensor  # [N, 1, H, W], predicted robust error / 3
    reconstruction: torch.Tensor  # [N, 3, H, W] in [0, 1]

    @property
    def weights(self) -> torch.Tensor:
        return self.rendering.weights

    def segmentation(self) -> torch.Tensor:
        return self.rendering.segmentation()


class ASTSeg(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        config.validate()
        self.config = config
        self.encoder = SlotEncoder(config)
        self.renderer = Renderer(config)
        self.background = BackgroundModel(
            config.image_height, config.image_width, config.background_latent_dim
        )

    def foreground_parameters(self) -> list[nn.Parameter]:
        return [*self.encoder.parameters(), *self.renderer.parameters()]

    def forward(self, images: torch.Tensor, background: torch.Tensor | None = None) -> ModelOutput:
        """images: [N, 3, H, W] RGB in [0, 1].

        `background` may be given (precomputed by a frozen background model);
        otherwise the background autoencoder runs on the images.
        """
        expected = (self.config.image_height, self.config.image_width)
        if tuple(images.shape[-2:]) != expected:
            raise ValueError(
                f"images are {tuple(images.shape[-2:])} but the model expects {expected} (H, W)"
            )
        if background is None:
            background, error = self.background(images)
        else:
            error = torch.zeros_like(background[:, :1])
        latents = self.encoder(images)
        rendering = self.renderer(latents)
        reconstruction = rendering.reconstruct(background.float())
        return ModelOutput(latents, rendering, background, error, reconstruction)
