"""What one training step minimises, for each phase (paper §4.2).

The trainer owns the loop (optimiser, schedules, checkpoints); this module owns
the loss of a batch, so recipe changes live in one place.
"""

from __future__ import annotations

import torch

from training.config import TrainConfig
from training.losses import LossTerms, background_loss, foreground_loss
from training.model import ASTSeg, ModelOutput
from training.schedules import pixel_entropy_factor


def background_step_loss(model: ASTSeg, images: torch.Tensor) -> torch.Tensor:
    """Phase 1: the background autoencoder alone, with its robust loss."""
    background, error = model.background(images)
    return background_loss(images, background, error)


def foreground_step_loss(
    model: ASTSeg,
    images: torch.Tensor,
    step: int,
    train: TrainConfig,
    background: torch.Tensor | None = None,
) -> tuple[LossTerms, ModelOutput]:
    """Phases 2-3 (and baseline training): eq 22 on the full model.

    `step` counts foreground steps from 0 (the pixel-entropy warm-up starts with them).
    `background` is a precomputed (frozen) background, or None to run the model's own.
    """
    out = model(images, background=background)
    weight = train.pixel_entropy_weight * pixel_entropy_factor(
        step, train.pixel_entropy_warmup_steps
    )
    return foreground_loss(out.reconstruction, images, out.weights, weight), out
