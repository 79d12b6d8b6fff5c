"""Segformer feature/attention map generator (paper §5.1): a pretrained backbone, random head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from training.config import ConfigError


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or Path(name).expanduser().exists()


class SegformerGenerator(nn.Module):
    """`SegformerForSemanticSegmentation` whose decode head emits `out_channels` maps at h/4 × w/4.

    The backbone comes from `from_pretrained(backbone)` (a hub name such as
    `nvidia/mit-b3` or a local directory saved with `save_pretrained`); the MLP
    decode head is always freshly initialised, as in the paper. With
    `backbone=None` the whole network is randomly initialised from a
    `SegformerConfig` built from `overrides` (used for small CPU models).
    """

    def __init__(
        self, out_channels: int, backbone: str | None, overrides: dict[str, Any] | None = None
    ) -> None:
        super().__init__()
        from transformers import SegformerConfig, SegformerForSemanticSegmentation

        overrides = dict(overrides or {})
        if backbone is None:
            config = SegformerConfig(**overrides)
            config.num_labels = out_channels
            self.net = SegformerForSemanticSegmentation(config)
        else:
            if _looks_like_path(backbone) and not Path(backbone).expanduser().is_dir():
                raise ConfigError(
                    "model.backbone", f"no Segformer checkpoint directory at '{backbone}'"
                )
            try:
                self.net = SegformerForSemanticSegmentation.from_pretrained(
                    str(Path(backbone).expanduser()) if _looks_like_path(backbone) else backbone,
                    num_labels=out_channels,
                    ignore_mismatched_sizes=True,
                    **overrides,
                )
            except OSError as err:
                raise ConfigError(
                    "model.backbone",
                    f"could not load Segformer weights '{backbone}' ({err.__class__.__name__}); "
                    "give a local directory saved with save_pretrained, or a hub name when "
                    "online",
                ) from None
            # The decode head is trained from scratch whatever the checkpoint held.
            self.net.decode_head.apply(self.net._init_weights)
        self.out_channels = out_channels

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(pixel_values=images).logits
