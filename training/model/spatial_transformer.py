"""Places glimpses on the image with an explicit sampling grid and `grid_sample`.

A glimpse centred at (x, y) with inverse scale s covers [x - 1/s, x + 1/s] of the
[-1, 1] image range, i.e. a 1/s share of the side. The grid is a constant base grid
of output pixel centres times an affine θ (a MatMul), never `F.affine_grid`, which
exports to an op TensorRT lacks (DESIGN §4).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 -> float32; float32 and float64 unchanged (the parity check's float64
    reference must stay float64, a traced float32 graph is unchanged)."""
    return x if x.dtype == torch.float64 else x.float()


def base_grid(height: int, width: int) -> torch.Tensor:
    """[H*W, 3] homogeneous pixel-centre coordinates (u, v, 1), align_corners=False convention."""
    us = (torch.arange(width, dtype=torch.float32) * 2 + 1) / width - 1
    vs = (torch.arange(height, dtype=torch.float32) * 2 + 1) / height - 1
    v, u = torch.meshgrid(vs, us, indexing="ij")
    return torch.stack([u.flatten(), v.flatten(), torch.ones(height * width)], dim=-1)


def placement_matrices(position: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """θ [B, 3, 2] such that base_grid @ θ gives glimpse coordinates s·(u - x), s·(v - y).

    position: [B, 2]; scale: [B, 1] (isotropic) or [B, 2] (x, y).
    """
    sx, sy = scale[:, :1], scale[:, -1:]
    zeros = torch.zeros_like(sx)
    col_x = torch.cat([sx, zeros, -sx * position[:, :1]], dim=1)
    col_y = torch.cat([zeros, sy, -sy * position[:, 1:2]], dim=1)
    return torch.stack([col_x, col_y], dim=-1)


class GlimpsePlacer(nn.Module):
    """Places [B, C, G, G] glimpses onto an H×W canvas; zero outside each glimpse."""

    def __init__(self, height: int, width: int) -> None:
        super().__init__()
        self.height, self.width = height, width
        self.register_buffer("grid", base_grid(height, width), persistent=False)

    def forward(
        self, glimpses: torch.Tensor, position: torch.Tensor, scale: torch.Tensor
    ) -> torch.Tensor:
        # float32 even under autocast: sub-pixel placement needs the precision, and FP16
        # engines keep this block in FP32 too (DESIGN §4).
        with torch.autocast(device_type=glimpses.device.type, enabled=False):
            theta = placement_matrices(at_least_float32(position), at_least_float32(scale))
            coords = torch.matmul(self.grid, theta).view(-1, self.height, self.width, 2)
            return F.grid_sample(
                at_least_float32(glimpses),
                coords,
                mode="bilinear",
                padding_mode="zeros",
                align_corners=False,
            )
