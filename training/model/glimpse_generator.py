"""Table 7 glimpse generator: z_what -> G×G RGB image + mask, both through a sigmoid.

The paper gives 32×32 glimpses for 64×64 images and 64×64 for 128×128; larger
images extend the same pattern (channels halve per layer, GroupNorm with one group
per 16 channels, CELU) by one more up-sampling layer to 128×128 glimpses.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def glimpse_size_for(height: int, width: int) -> int:
    side = max(height, width)
    if side <= 64:
        return 32
    if side <= 128:
        return 64
    return 128


class TailExactSigmoid(nn.Module):
    """A sigmoid whose exported graph keeps its relative accuracy far below 1e-6.

    A trained slot's α_k/α_0 reaches e^9 and more, so a mask of 1e-8 at a glimpse's border
    still takes a share of the pixel's weight. ONNX Runtime's Sigmoid is accurate only in
    absolute terms (off by 50 % at -16, and 0 below -18), so the export spells the same
    function with Exp, which is accurate relatively: e^min(x, 0) / (1 + e^-|x|). PyTorch's
    own sigmoid is already accurate there and stays the training path.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.onnx.is_in_onnx_export():
            return torch.exp(torch.clamp(x, max=0.0)) / (1.0 + torch.exp(-torch.abs(x)))
        return torch.sigmoid(x)


def centred_window(glimpse_size: int, radius: float) -> torch.Tensor:
    """[G, G] exp(-(r / radius)^4), r the distance from the glimpse's centre in units of its
    half-side (pixel centres): about 1 inside 0.6·radius, e^-1 at r = radius, and under
    1e-4 at r = 1.8·radius. A glimpse's mask times it can only draw near the slot's
    position (`model.glimpse_window`)."""
    centres = (torch.arange(glimpse_size, dtype=torch.float32) * 2 + 1) / glimpse_size - 1
    v, u = torch.meshgrid(centres, centres, indexing="ij")
    r2 = (u.square() + v.square()) / radius**2
    return torch.exp(-r2.square())


class GlimpseGenerator(nn.Module):
    def __init__(self, z_what_dim: int, glimpse_size: int, window: float = 0.0) -> None:
        super().__init__()
        layers_count = int(math.log2(glimpse_size))  # 1×1 -> 2×2, then doubling up to G
        widths = [4 * 2 ** (layers_count - 1 - i) for i in range(layers_count)]  # ..., 8, 4
        layers: list[nn.Module] = [nn.ConvTranspose2d(z_what_dim, widths[0], 2, 2, 0, bias=False)]
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.GroupNorm(max(1, cin // 16), cin), nn.CELU()]
            last = cout == widths[-1]
            layers.append(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=last))
        layers.append(TailExactSigmoid())
        self.net = nn.Sequential(*layers)
        self.glimpse_size = glimpse_size
        # a constant of the config, not a weight: old checkpoints load unchanged
        self.window: torch.Tensor | None
        if window > 0:
            self.register_buffer("window", centred_window(glimpse_size, window), persistent=False)
        else:
            self.window = None

    def forward(self, z_what: torch.Tensor) -> torch.Tensor:
        """z_what: [B, Z] -> [B, 4, G, G] (RGB, mask) in [0, 1]."""
        rgba = self.net(z_what[:, :, None, None])
        if self.window is None:
            return rgba
        return torch.cat([rgba[:, :3], rgba[:, 3:] * self.window.to(rgba.dtype)], dim=1)
