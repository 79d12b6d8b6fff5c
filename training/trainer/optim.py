"""Optimisers and learning rates of each phase (paper §5.1, Table 6).

Phase 1 trains the background model alone with its own Adam at `background_lr`. The
foreground phases share one Adam with two parameter groups, foreground and background:
while the background is frozen its parameters get no gradient, so Adam leaves them (and
their state) alone, and the same optimiser carries on into joint fine-tuning.
"""

from __future__ import annotations

import torch
from torch import nn

from training.config import TrainConfig
from training.model import ASTSeg
from training.schedules import lr_factor
from training.trainer.phases import Phase, PhasePlan


def _adam(groups: list[dict], lr: float, train: TrainConfig) -> torch.optim.Adam:
    return torch.optim.Adam(
        groups, lr=lr, betas=train.adam_betas, eps=train.adam_eps, weight_decay=train.weight_decay
    )


def optimizer_kind(phase: Phase) -> str:
    return "background" if phase.kind == "background" else "foreground"


def build_optimizer(model: ASTSeg, phase: Phase, train: TrainConfig) -> torch.optim.Adam:
    if phase.kind == "background":
        return _adam([{"params": list(model.background.parameters())}], train.background_lr, train)
    return _adam(
        [
            {"params": model.foreground_parameters()},
            {"params": list(model.background.parameters())},
        ],
        train.lr,
        train,
    )


def set_trainable(model: ASTSeg, phase: Phase) -> None:
    """requires_grad per phase; DDP wrappers must be (re)built after this."""
    for p in model.foreground_parameters():
        p.requires_grad_(phase.trains_foreground)
    for p in model.background.parameters():
        p.requires_grad_(phase.trains_background)


def learning_rate(
    phase: Phase, plan: PhasePlan, step: int, train: TrainConfig, decay_from: int | None = None
) -> float:
    """Background pre-training runs at a constant lr; the foreground schedule has the
    quadratic warm-up and the ÷10 at `lr_decay_fraction` of `train.steps`, or from the
    foreground step `decay_from` that the time budget chose (TrainState.lr_decay_from)."""
    if phase.kind == "background":
        return train.background_lr
    factor = lr_factor(
        plan.foreground_step(step),
        train.lr_warmup_steps,
        plan.foreground_steps,
        train.lr_decay_fraction,
        decay_from,
    )
    return train.lr * factor


def apply_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def trainable(parameters: list[nn.Parameter]) -> list[nn.Parameter]:
    return [p for p in parameters if p.requires_grad]
