"""What one training step minimises, for each phase (paper §4.2).

The trainer owns the loop (optimiser, schedules, checkpoints); this module owns
the loss of a batch, so recipe changes live in one place.
"""

from __future__ import annotations

import torch

from training.config import TrainConfig
from training.losses import LossTerms, background_loss, coverage_loss, foreground_loss
from training.model import ASTSeg, ModelOutput
from training.relight import match_illumination
from training.schedules import pixel_entropy_weight
from training.slot_redundancy import redundancy_loss


def background_step_loss(model: ASTSeg, images: torch.Tensor) -> torch.Tensor:
    """Phase 1: the background autoencoder alone, with its robust loss. With the fixed-camera
    rule's light matching on, the loss compares the frame with the background under the
    frame's overall light (one gain per channel, training.relight): the model learns the
    scene rather than each frame's brightness, which the runtime matches cell by cell. A
    gain per cell here would leave each cell's brightness free, and the model would drift.
    With the static prior (`model.background_prior`) the loss is not relit: a global gain
    leaves the overall brightness free too, and it drifted from the median's 136 to 213 grey
    levels in 51 steps on CDnet traffic, squashing the texture against the sigmoid's top;
    the prior's autoencoder models each frame's light itself."""
    background, error = model.background(images)
    if model.config.foreground_rule.get("relight", 0) and not model.config.background_prior:
        background = match_illumination(images, background, grid=(1, 1))
    return background_loss(images, background, error)


def foreground_step_loss(
    model: ASTSeg,
    images: torch.Tensor,
    step: int,
    train: TrainConfig,
    background: torch.Tensor | None = None,
    background_images: torch.Tensor | None = None,
) -> tuple[LossTerms, ModelOutput]:
    """Phases 2-3 (and baseline training): eq 22 on the full model.

    `step` counts foreground steps from 0 (the pixel-entropy warm-up starts with them).
    `background` is a precomputed (frozen) background at the slot size, or None to run the
    model's own on `background_images` (the frames at its own size; None = `images`). The
    coverage cue reads the error of that background resized to the slot size.
    """
    out = model(images, background=background, background_images=background_images)
    weight = pixel_entropy_weight(
        step,
        train.pixel_entropy_weight,
        train.pixel_entropy_warmup_steps,
        train.pixel_entropy_late_weight,
        train.pixel_entropy_late_from,
    )
    terms = foreground_loss(out.reconstruction, images, out.weights, weight)
    cover_weight = train.coverage_weight * coverage_factor(step, train.coverage_steps)
    if cover_weight > 0:
        cover = coverage_loss(out.weights, images, out.background, train.coverage_tau)
        terms.total = terms.total + cover_weight * cover
        terms.coverage, terms.coverage_weight = cover, cover_weight
    if train.redundancy_weight > 0 and step >= train.redundancy_start:
        redundant, _ = redundancy_loss(
            out.weights,
            out.rendering.layers,
            out.background,
            images,
            train.redundancy_tau,
            train.redundancy_shared_only,
        )
        terms.total = terms.total + train.redundancy_weight * redundant
        terms.redundancy, terms.redundancy_weight = redundant, train.redundancy_weight
    return terms, out


def coverage_factor(step: int, steps: int) -> float:
    """Our addition: the coverage-loss weight anneals linearly from 1 at step 0 to 0 at
    `steps` (0 = never on), so late training minimises the paper's loss alone."""
    if steps <= 0:
        return 0.0
    return max(0.0, 1.0 - step / steps)
