"""The U-Net feature/attention map generator of the paper's ablation (Table 8).

Maps stay at full image resolution. Down-sampling blocks: 4×4 stride-2 conv then
a residual 3×3 conv; up-sampling blocks mirror them with a transposed conv. Each
block is BatchNorm + CELU. Odd sizes are handled with output padding computed from
the configured image size, so the decoder reproduces every encoder size exactly.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv_bn_celu(cin: int, cout: int, kernel: int, stride: int, padding: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, padding, bias=False), nn.BatchNorm2d(cout), nn.CELU()
    )


class _Down(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.reduce = _conv_bn_celu(cin, cout, 4, 2, 1)
        self.refine = _conv_bn_celu(cout, cout, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.reduce(x)
        return x + self.refine(x)


class _Up(nn.Module):
    def __init__(self, cin: int, cout: int, output_padding: tuple[int, int]) -> None:
        super().__init__()
        self.refine = _conv_bn_celu(cin, cin, 3, 1, 1)
        self.expand = nn.Sequential(
            nn.ConvTranspose2d(cin, cout, 4, 2, 1, output_padding=output_padding, bias=False),
            nn.BatchNorm2d(cout),
            nn.CELU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.expand(x + self.refine(x))


def _down_sizes(height: int, width: int, blocks: int) -> list[tuple[int, int]]:
    sizes = [(height, width)]
    for _ in range(blocks):
        h, w = sizes[-1]
        sizes.append(((h - 2) // 2 + 1, (w - 2) // 2 + 1))  # k=4, s=2, p=1
    return sizes


class UNetGenerator(nn.Module):
    """U-Net with `channels[0]` at full resolution and one down block per further entry."""

    def __init__(self, out_channels: int, height: int, width: int, channels: list[int]) -> None:
        super().__init__()
        blocks = len(channels) - 1
        sizes = _down_sizes(height, width, blocks)
        if min(sizes[-1]) < 1:
            raise ValueError(
                f"config field 'model.unet_channels': {blocks} down-sampling blocks are too "
                f"many for a {height}x{width} image"
            )
        self.stem = _conv_bn_celu(3, channels[0], 3, 1, 1)
        self.down = nn.ModuleList(_Down(channels[i], channels[i + 1]) for i in range(blocks))
        self.center = _conv_bn_celu(channels[-1], channels[-1], 3, 1, 1)
        ups = []
        for i in range(blocks):
            (h, w), (hs, ws) = sizes[i], sizes[i + 1]
            pad = (h - ((hs - 1) * 2 - 2 + 4), w - ((ws - 1) * 2 - 2 + 4))
            ups.append(_Up(2 * channels[i + 1], channels[i], pad))
        self.up = nn.ModuleList(ups)
        self.skip = _conv_bn_celu(2 * channels[0], out_channels, 3, 1, 1)
        self.residual = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.head = nn.Conv2d(out_channels, out_channels, 1)
        self.out_channels = out_channels

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.stem(images)
        skips = [x]
        for block in self.down:
            x = block(x)
            skips.append(x)
        x = self.center(x)
        for i in reversed(range(len(self.up))):
            x = self.up[i](torch.cat([x, skips[i + 1]], dim=1))
        x = self.skip(torch.cat([x, skips[0]], dim=1))
        x = x + self.residual(x)
        return self.head(x)
