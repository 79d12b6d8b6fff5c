"""z_what from what the slot sees (issue 22, `model.glimpse_encoder: crop`; not the paper's).

The paper's z_what is attention-pooled from the feature maps, so the glimpse generator
never sees the pixels it has to draw and learns shapes only through the reconstruction
loss, slowly. Here each slot also reads the input under its own glimpse window, the
spatial transformer's placement run in reverse (as SPAIR and SPACE do): the window the
renderer will draw into is sampled at C×C, a small CNN encodes it, and the code is added
to the pooled z_what. The generator then learns as an autoencoder of the object it sits on.

The crop is an explicit grid through a MatMul and `grid_sample`, like GlimpsePlacer, so the
exported graph has the same operators (DESIGN §4).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from training.model.spatial_transformer import at_least_float32, base_grid

MAX_CROP_SIZE = 32  # larger windows are sampled down to this: the code needs shape, not detail


def crop_matrices(position: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """θ [B, 3, 2] such that glimpse-grid @ θ gives image coordinates x + g/s (the inverse
    of `placement_matrices`). position: [B, 2]; scale: [B, 1] or [B, 2]."""
    inv_x, inv_y = 1.0 / scale[:, :1], 1.0 / scale[:, -1:]
    zeros = torch.zeros_like(inv_x)
    col_x = torch.cat([inv_x, zeros, position[:, :1]], dim=1)
    col_y = torch.cat([zeros, inv_y, position[:, 1:2]], dim=1)
    return torch.stack([col_x, col_y], dim=-1)


class GlimpseEncoder(nn.Module):
    """(images [N, 3, H, W], position [N, K, 2], scale [N, K, S]) -> code [N, K, Z]."""

    def __init__(self, z_what_dim: int, glimpse_size: int) -> None:
        super().__init__()
        self.crop_size = min(glimpse_size, MAX_CROP_SIZE)
        self.register_buffer("grid", base_grid(self.crop_size, self.crop_size), persistent=False)
        downs = int(math.log2(self.crop_size // 4))  # down to 4×4
        widths = [3] + [min(32 * 2**i, 64) for i in range(downs)]
        layers: list[nn.Module] = []
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.GroupNorm(max(1, cout // 16), cout)]
            layers.append(nn.CELU())
        self.convs = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(widths[-1] * 16, 128), nn.CELU(), nn.Linear(128, z_what_dim)
        )

    def crops(
        self, images: torch.Tensor, position: torch.Tensor, scale: torch.Tensor
    ) -> torch.Tensor:
        """[N*K, 3, C, C]: the input under each slot's glimpse window (zeros outside)."""
        n, k = position.shape[:2]
        c = self.crop_size
        with torch.autocast(device_type=images.device.type, enabled=False):
            theta = crop_matrices(
                at_least_float32(position.reshape(n * k, 2)),
                at_least_float32(scale.reshape(n * k, -1)),
            )
            # all K windows of an image in one grid [N, K*C, C, 2]: each image is sampled
            # once, not copied K times (memory in training, where grid_sample keeps its input)
            coords = torch.matmul(self.grid, theta).view(n, k * c, c, 2)
            sampled = F.grid_sample(
                at_least_float32(images),
                coords,
                mode="bilinear",
                padding_mode="zeros",
                align_corners=False,
            )  # [N, 3, K*C, C]
        channels = images.shape[1]
        return sampled.view(n, channels, k, c, c).transpose(1, 2).reshape(n * k, channels, c, c)

    def forward(
        self, images: torch.Tensor, position: torch.Tensor, scale: torch.Tensor
    ) -> torch.Tensor:
        n, k = position.shape[:2]
        crops = self.crops(images, position, scale).to(images.dtype)
        return self.head(self.convs(crops)).view(n, k, -1)
