"""Algorithm 1: image -> K slot latents (positions, inverse scales, activations, z_what)."""

from __future__ import annotations

import torch
from torch import nn

from training.config import ModelConfig
from training.model.glimpse_encoder import GlimpseEncoder
from training.model.glimpse_generator import glimpse_size_for
from training.model.latents import SlotLatents
from training.model.segformer_generator import SegformerGenerator
from training.model.soft_argmax import (
    competing_logits,
    normalised_coordinates,
    soft_argmax_and_pool,
)
from training.model.unet_generator import UNetGenerator


def build_map_generator(config: ModelConfig) -> nn.Module:
    """The network that outputs K attention logit maps followed by d_Φ feature maps."""
    channels = config.num_slots + config.slot_feature_dim
    if config.feature_generator == "unet":
        return UNetGenerator(
            channels, config.image_height, config.image_width, list(config.unet_channels)
        )
    return SegformerGenerator(channels, config.backbone, config.segformer_overrides)


class SlotRefiner(nn.Module):
    """Embedding -> transformer encoder (no positional encoding) -> projection (Algorithm 1)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        width = config.slot_feature_dim + 2
        self.embed = nn.Linear(width, config.transformer_dim)
        layer = nn.TransformerEncoderLayer(
            d_model=config.transformer_dim,
            nhead=config.transformer_heads,
            dim_feedforward=config.transformer_ff_dim,
            dropout=config.transformer_dropout,
            batch_first=True,
        )
        # Nested tensors change the graph the ONNX exporter sees (DESIGN §4).
        self.transformer = nn.TransformerEncoder(
            layer, num_layers=config.transformer_layers, enable_nested_tensor=False
        )
        self.project = nn.Linear(config.transformer_dim, width)

    def forward(self, slots: torch.Tensor) -> torch.Tensor:
        return self.project(self.transformer(self.embed(slots)))


class SlotEncoder(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.map_generator = build_map_generator(config)
        self.refiner = SlotRefiner(config) if config.use_transformer else None
        self.glimpse_encoder = (
            GlimpseEncoder(
                config.z_what_dim,
                config.glimpse_size or glimpse_size_for(config.image_height, config.image_width),
            )
            if config.glimpse_encoder == "crop"
            else None
        )
        self.register_buffer(
            "input_mean", torch.tensor(config.input_mean).view(1, 3, 1, 1), persistent=False
        )
        self.register_buffer(
            "input_std", torch.tensor(config.input_std).view(1, 3, 1, 1), persistent=False
        )
        self._coordinates: dict[tuple[int, int], torch.Tensor] = {}

    def coordinates(self, height: int, width: int, like: torch.Tensor) -> torch.Tensor:
        key = (height, width)
        if key not in self._coordinates:
            self._coordinates[key] = normalised_coordinates(height, width)
        return self._coordinates[key].to(device=like.device, dtype=like.dtype)

    def forward(self, images: torch.Tensor) -> SlotLatents:
        """images: [N, 3, H, W] RGB in [0, 1]."""
        cfg = self.config
        k = cfg.num_slots
        normalised = (images - self.input_mean) / self.input_std
        maps = self.map_generator(normalised)
        attention, features = maps[:, :k], maps[:, k:]
        if cfg.slot_competition:
            attention = competing_logits(attention)
        coords = self.coordinates(maps.shape[-2], maps.shape[-1], maps)
        positions, pooled = soft_argmax_and_pool(attention, features, coords)
        slots = torch.cat([positions, pooled], dim=-1)
        if self.refiner is not None:
            slots = self.refiner(slots)
        s_dim = cfg.scale_dim
        position = slots[..., :2].clamp(-1.0, 1.0)
        scale_logit = slots[..., 2 : 2 + s_dim]
        # The activation sits right after the scale value(s), whatever S is.
        log_activation = slots[..., 2 + s_dim] + cfg.slot_activation_init
        z_what = slots[..., 3 + s_dim :]
        scale = cfg.s_min + (cfg.s_max - cfg.s_min) * torch.sigmoid(scale_logit)
        if self.glimpse_encoder is not None:
            z_what = z_what + self.glimpse_encoder(normalised, position, scale)
        return SlotLatents(position, scale, log_activation, z_what)
