"""The per-slot latents that pass from the encoder to the renderer (and to the runtime)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class SlotLatents:
    """Latents of K slots for a batch of N images.

    position: [N, K, 2] (x, y) in [-1, 1], x along the width.
    scale: [N, K, S] inverse scale in [s_min, s_max]; S = 1 (isotropic) or 2 (x, y).
    log_activation: [N, K] log α_k (kept in log space: α itself overflows float32).
    z_what: [N, K, Z] appearance code.
    """

    position: torch.Tensor
    scale: torch.Tensor
    log_activation: torch.Tensor
    z_what: torch.Tensor

    @property
    def num_slots(self) -> int:
        return int(self.position.shape[1])
