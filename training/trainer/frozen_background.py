"""The frozen background of a foreground phase, computed once per training sample.

While the background model is frozen its output for a sample is a pure function of the
sample, so it is cached (at the slot size, as uint8) instead of recomputed every step: at a
fixed camera's 240x320 the autoencoder's forward pass costs more than the whole slot step on
a CPU. Every value is rounded to uint8 whether it comes from the cache or was just computed,
so a run computes the same losses with a cold cache (a resumed run) as with a warm one.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import numpy as np
import torch

from training.data.resize import resize_image
from training.data.sample import SampleDataset
from training.model import ASTSeg
from training.model.astseg import to_size
from training.relight import match_illumination
from training.trainer.background_statistics import align_backgrounds

CACHE_BYTES = 1 << 30  # beyond this, misses are computed each time and not kept


class FrozenBackgrounds:
    """`get(indices)`: the slot-size backgrounds of those training samples."""

    def __init__(
        self,
        model: ASTSeg,
        samples: SampleDataset,
        autocast: Callable[[], AbstractContextManager[object]],
        max_bytes: int = CACHE_BYTES,
    ) -> None:
        self.model = model
        self.samples = samples
        self.autocast = autocast
        self.max_bytes = max_bytes
        self.cache: dict[int, torch.Tensor] = {}
        self.bytes = 0
        self.computed = 0  # samples run through the background model (for tests and logs)

    def _frames(self, indices: list[int], device: torch.device) -> torch.Tensor:
        size = self.model.config.background_size
        frames = [resize_image(self.samples[i].image, size) for i in indices]
        batch = torch.from_numpy(np.stack(frames)).to(device)
        return batch.permute(0, 3, 1, 2).float().div_(255.0)

    @torch.no_grad()
    def _compute(self, indices: list[int], device: torch.device) -> torch.Tensor:
        cfg = self.model.config
        frames = self._frames(indices, device)
        with self.autocast():
            background = self.model.background(frames)[0].float()
        max_shift = float(cfg.foreground_rule.get("shake", 0))
        if max_shift > 0:  # where the runtime puts it: moved onto the frame's view
            background = align_backgrounds(frames, background, max_shift)
        if cfg.foreground_rule.get("relight", 0):  # the light the runtime compares against
            background = match_illumination(frames, background)
        background = to_size(background, (cfg.image_height, cfg.image_width))
        self.computed += len(indices)
        return background.clamp(0, 1).mul(255).round().to(torch.uint8).cpu()

    def get(self, indices: torch.Tensor, device: torch.device) -> torch.Tensor:
        """float32 [N, 3, H, W] in [0, 1] at the slot size, on `device`."""
        wanted = [int(i) for i in indices.tolist()]
        missing = sorted({i for i in wanted if i not in self.cache})
        fresh: dict[int, torch.Tensor] = {}
        if missing:
            for i, value in zip(missing, self._compute(missing, device), strict=True):
                fresh[i] = value
                if self.bytes + value.numel() <= self.max_bytes:
                    self.cache[i] = value
                    self.bytes += value.numel()
        stacked = torch.stack([fresh[i] if i in fresh else self.cache[i] for i in wanted])
        return stacked.to(device).float().div_(255.0)
