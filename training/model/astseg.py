"""AST-Seg: slot encoder + renderer + background autoencoder (paper Fig. 1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
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
        # Its own input size (fixed-camera mode); its output is resized to the slot size.
        self.background = BackgroundModel(
            *config.background_size,
            config.background_latent_dim,
            static_prior=config.background_prior,
            measured_noise=config.background_noise == "measured",
        )

    def foreground_parameters(self) -> list[nn.Parameter]:
        return [*self.encoder.parameters(), *self.renderer.parameters()]

    def slot_background(
        self, images: torch.Tensor, background_images: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(background, predicted error) at the slot model's size.

        The autoencoder runs on `background_images` (the frames at its own size); without
        them, on `images` resized to its size (bilinear: only the slot-size view exists).
        Its outputs are area-averaged down (or bilinearly up) to the slot size.
        """
        size = self.config.background_size
        if background_images is None:
            background_images = to_size(images, size)
        elif tuple(background_images.shape[-2:]) != size:
            raise ValueError(
                f"background images are {tuple(background_images.shape[-2:])} but the "
                f"background model expects {size} (H, W)"
            )
        background, error = self.background(background_images)
        slot_size = (self.config.image_height, self.config.image_width)
        return to_size(background, slot_size), to_size(error, slot_size)

    def forward(
        self,
        images: torch.Tensor,
        background: torch.Tensor | None = None,
        background_images: torch.Tensor | None = None,
    ) -> ModelOutput:
        """images: [N, 3, H, W] RGB in [0, 1].

        `background` may be given (precomputed by a frozen background model, at the slot
        size); otherwise the background autoencoder runs on `background_images` (the same
        frames at its own size) or, without them, on `images` (`slot_background`).
        """
        expected = (self.config.image_height, self.config.image_width)
        if tuple(images.shape[-2:]) != expected:
            raise ValueError(
                f"images are {tuple(images.shape[-2:])} but the model expects {expected} (H, W)"
            )
        if background is None:
            background, error = self.slot_background(images, background_images)
        else:
            error = torch.zeros_like(background[:, :1])
        latents = self.encoder(images)
        rendering = self.renderer(latents)
        reconstruction = rendering.reconstruct(background.float())
        return ModelOutput(latents, rendering, background, error, reconstruction)


def to_size(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """[N, C, h, w] -> [N, C, *size]: area averaging when shrinking (each output pixel is the
    mean of the input pixels it covers), bilinear otherwise; unchanged at the same size."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    shrinking = size[0] <= images.shape[-2] and size[1] <= images.shape[-1]
    if shrinking:
        return F.adaptive_avg_pool2d(images, size)
    return F.interpolate(images, size=size, mode="bilinear", align_corners=False)
