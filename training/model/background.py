"""The background autoencoder (paper ref. [35], DESIGN §3) for any image size.

Each block concatenates two positional channels (row, column in [-0.5, 0.5]) to its
input, then convolves; the encoder shrinks the map to 1×1 (16 latents) and the
generator mirrors it with transposed convolutions. The generator outputs RGB and a
fourth channel that predicts the robust reconstruction error, i.e. where the image
shows something the background cannot explain (a foreground mask for free).

Two opt-in additions for a fixed camera (`model.background_prior`, `model.background_noise`,
docs/cpu-recipe.md §8), off in the paper presets:
- a static image prior: a full-size learnt image (logits) the generator's colours are added
  to, initialised from the footage's median frame, so texture (leaves, brick, asphalt) is
  there from step 0 and the autoencoder only learns what changes (light, global shifts);
- a measured noise map: the fourth output is a per-pixel statistic of the residual between
  the footage and this model's background (`training.background_statistics`), not the head.
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
    def __init__(
        self,
        height: int,
        width: int,
        latent_dim: int = 16,
        static_prior: bool = False,
        measured_noise: bool = False,
    ) -> None:
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
        self.prior_logits: nn.Parameter | None = None
        if static_prior:
            self.prior_logits = nn.Parameter(torch.zeros(1, 3, height, width))
            with torch.no_grad():  # the generator starts as a small correction of the prior
                last = self.generator[-1].conv
                last.weight.mul_(0.01)
                if last.bias is not None:
                    last.bias.zero_()
        # 0 until measured after phase 1; a persistent buffer, so checkpoints and exports keep it
        noise_map = torch.zeros(1, 1, height, width) if measured_noise else None
        self.noise_map: torch.Tensor | None
        self.register_buffer("noise_map", noise_map)

    @torch.no_grad()
    def set_prior(self, image: torch.Tensor) -> None:
        """Start the prior at `image` ([3, H, W] in [0, 1]); kept in (0, 1) so logits are finite."""
        if self.prior_logits is None:
            raise ValueError("this background model has no static prior")
        self.prior_logits.copy_(torch.logit(image.clamp(1 / 255, 254 / 255))[None])

    @torch.no_grad()
    def set_noise_map(self, noise: torch.Tensor) -> None:
        """The measured residual statistic ([H, W] on the 0-1 scale of the noise output)."""
        if self.noise_map is None:
            raise ValueError("this background model predicts its noise with its head")
        self.noise_map.copy_(noise.reshape(self.noise_map.shape))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images [N, 3, H, W] in [0, 1] -> (background [N, 3, H, W], predicted error [N, 1, H, W]).

        The error channel predicts e/3, where e in [0, 3] is the robust per-pixel error.
        """
        logits = self.generator(self.encoder(images))
        colour, head = logits[:, :3], logits[:, 3:]
        if self.prior_logits is not None:
            colour = colour + self.prior_logits
        if self.noise_map is not None:
            noise = self.noise_map.expand(images.shape[0], -1, -1, -1)
        else:
            noise = torch.sigmoid(head)
        return torch.sigmoid(colour), noise
