"""The loss of one batch in each phase, through `training.objective` (which owns the losses).

`objective` is looked up at call time so that a recipe change there (or a test's patch)
takes effect in the loop.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from training import objective
from training.config import TrainConfig
from training.losses import LossTerms
from training.model import ASTSeg, ModelOutput
from training.trainer.phases import Phase


class DistributedView:
    """The model as the objective sees it under DistributedDataParallel.

    Calling it runs the DDP-wrapped model (in phase 1: `.background` is the DDP-wrapped
    background model), so every forward that produces gradients goes through DDP's
    gradient sync; any other attribute is the bare model's.
    """

    def __init__(
        self, model: ASTSeg, forward: nn.Module | None, background: nn.Module | None
    ) -> None:
        self._model = model
        self._forward = forward
        self._background = background

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return (self._forward or self._model)(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name == "background" and self._background is not None:
            return self._background
        return getattr(self._model, name)


@dataclass
class BatchLoss:
    total: torch.Tensor
    terms: dict[str, torch.Tensor]  # every named loss term, logged as loss/<name>
    weights: dict[str, float]  # every term weight of this step, logged as weight/<name>
    output: ModelOutput | None


def _named_terms(terms: LossTerms) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    """All tensor terms and `*_weight` floats of `LossTerms`, whatever the objective adds."""
    tensors: dict[str, torch.Tensor] = {}
    weights: dict[str, float] = {}
    for f in dataclasses.fields(terms):
        value = getattr(terms, f.name)
        if f.name != "total" and isinstance(value, torch.Tensor):
            tensors[f.name] = value
        elif f.name.endswith("_weight") and isinstance(value, (int, float)):
            weights[f.name] = float(value)
    return tensors, weights


def batch_loss(
    phase: Phase,
    wrapped: ASTSeg | DistributedView,
    model: ASTSeg,
    images: torch.Tensor,
    foreground_step: int,
    train: TrainConfig,
    background_images: torch.Tensor | None = None,
    background: torch.Tensor | None = None,
) -> BatchLoss:
    """`wrapped` is what gradients flow through (a DDP view or the model); `model` is bare.

    `images` are at the slot size, except in phase 1 where they are at the background
    model's size. `background_images` are the same frames at the background model's size
    (None when both sizes agree); `background` is the frozen background at the slot size
    when the caller already has it (`FrozenBackgrounds`).
    """
    if phase.kind == "background":
        loss = objective.background_step_loss(wrapped, images)  # type: ignore[arg-type]
        return BatchLoss(loss, {"background": loss}, {}, None)
    if phase.kind == "frozen" and background is None:
        # The background model is frozen: its output is a constant of the batch.
        with torch.no_grad():
            background = model.slot_background(images, background_images)[0].detach()
    # Passed only when there are any, so a recipe without the argument keeps working.
    extra = {} if background_images is None else {"background_images": background_images}
    terms, output = objective.foreground_step_loss(
        wrapped,  # type: ignore[arg-type]
        images,
        foreground_step,
        train,
        background=background,
        **extra,
    )
    tensors, weights = _named_terms(terms)
    return BatchLoss(terms.total, tensors, weights, output)


def active_slots(output: ModelOutput) -> float:
    """Mean number of slots per image that own at least one pixel of the segmentation."""
    with torch.no_grad():
        segmentation = output.segmentation()
        k = output.weights.shape[1]
        present = torch.zeros(segmentation.shape[0], k, device=segmentation.device)
        present.scatter_(1, segmentation.flatten(1), 1.0)
        return float(present[:, 1:].sum(dim=1).mean())
