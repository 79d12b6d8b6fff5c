"""The background autoencoder (paper ref. [35], DESIGN §3) for any image size.

Each block concatenates two positional channels (row, column in [-0.5, 0.5]) to its
input, then convolves; the encoder shrinks the map to 1×1 (16 latents) and the
generator mirrors it with transposed convolutions. The generator outputs RGB and a
fourth channel that predicts the robust reconstruction error, i.e. where the image
shows something the background cannot explain (a foreground mask for free).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class _Step:
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    size_in: tuple[int, int]
    size_out: tuple[int, int]

    @property
    def output_padding(self) -> tuple[int, int]:
        """Extra rows/cols a transposed conv needs to reproduce `size_in` exactly."""
        return tuple(  # type: ignore[return-value]
            size - ((out - 1) * s - 2 * p + k)
            for size, out, s, p, k in zip(
                self.size_in, self.size_out, self.stride, self.padding, self.kernel, strict=True
            )
        )


def _axis_step(side: int, large: bool) -> tuple[int, int, int]:
    """(kernel, stride, padding) for one axis: 5×5 strided while the side is > 5."""
    if side > 5:
        return 5, 3 if large else 2, 2
    if side > 3 and not large:
        return 4, 2, 1
    return side, 1, 0  # collapse what is left to a single pixel


def down_schedule(height: int, width: int) -> list[_Step]:
    large = max(height, width) >= 200  # stride 3 above 200 px keeps the block count low
    steps, h, w = [], height, width
    while h > 1 or w > 1:
        kh, sh, ph = _axis_step(h, large)
        kw, sw, pw = _axis_step(w, large)
        nh, nw = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
        steps.append(_Step((kh, kw), (sh, sw), (ph, pw), (h, w), (nh, nw)))
        h, w = nh, nw
    return steps


def block_widths(blocks: int, latent: int) -> list[int]:
    """Output channels of each encoder block: widen to 160, narrow before the latent."""
    widths = [min(64 * 2**i, 160) for i in range(blocks - 1)]
    if blocks >= 3:
        widths[-1] = 32
    return [*widths, latent]


def _positions(height: int, width: int) -> torch.Tensor:
    rows = torch.linspace(-0.5, 0.5, height) if height > 1 else torch.zeros(1)
    cols = torch.linspace(-0.5, 0.5, width) if width > 1 else torch.zeros(1)
    r, c = torch.meshgrid(rows, cols, indexing="ij")
    return torch.stack([r, c])[None]


class _PositionalBlock(nn.Module):
    def __init__(self, conv: nn.Module, size_in: tuple[int, int], norm_act: bool, cout: int):
        super().__init__()
        self.register_buffer("pos", _positions(*size_in), persistent=False)
        self.conv = conv
        self.post = (
            nn.Sequential(nn.GroupNorm(max(1, cout // 16), cout), nn.CELU())
            if norm_act
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.cat([x, self.pos.expand(x.shape[0], -1, -1, -1).to(x.dtype)], dim=1)
        return self.post(self.conv(x))


class BackgroundModel(nn.Module):
    def __init__(self, height: int, width: int, latent_dim: int = 16) -> None:
        super().__init__()
        steps = down_schedule(height, width)
        widths = block_widths(len(steps), latent_dim)
        cins = [3, *widths[:-1]]
        self.encoder = nn.Sequential(
            *(
                _PositionalBlock(
                    nn.Conv2d(cin + 2, cout, st.kernel, st.stride, st.padding, bias=False),
                    st.size_in,
                    norm_act=i < len(steps) - 1,
                    cout=cout,
                )
                for i, (st, cin, cout) in enumerate(zip(steps, cins, widths, strict=True))
            )
        )
        gen_cins = list(reversed(widths))  # latent first
        gen_couts = [*reversed(cins[1:]), 4]
        self.generator = nn.Sequential(
            *(
                _PositionalBlock(
                    nn.ConvTranspose2d(
                        cin + 2,
                        cout,
                        st.kernel,
                        st.stride,
                        st.padding,
                        output_padding=st.output_padding,
                        bias=cout == 4,
                    ),
                    st.size_out,
                    norm_act=cout != 4,
                    cout=cout,
                )
                for st, cin, cout in zip(reversed(steps), gen_cins, gen_couts, strict=True)
            )
        )
        self.latent_dim = latent_dim

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images [N, 3, H, W] in [0, 1] -> (background [N, 3, H, W], predicted error [N, 1, H, W]).

        The error channel predicts e/3, where e in [0, 3] is the robust per-pixel error.
        """
        out = torch.sigmoid(self.generator(self.encoder(images)))
        return out[:, :3], out[:, 3:]
