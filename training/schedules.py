"""Learning-rate and pixel-entropy schedules of §4.2 and Table 6."""

from __future__ import annotations


def lr_factor(
    step: int,
    warmup_steps: int,
    total_steps: int,
    decay_fraction: float = 0.9,
    decay_from: int | None = None,
) -> float:
    """Quadratic warm-up to 1 over `warmup_steps`, then ÷10 from `decay_fraction` of the run,
    or from step `decay_from` when that comes first (a time budget's decay point)."""
    factor = min(1.0, ((step + 1) / warmup_steps) ** 2) if warmup_steps > 0 else 1.0
    if step >= decay_fraction * total_steps or (decay_from is not None and step >= decay_from):
        factor /= 10.0
    return factor


def pixel_entropy_factor(step: int, warmup_steps: int) -> float:
    """min(1, step / N_pixel)^2, the quadratic warm-up of eq 22."""
    if warmup_steps <= 0:
        return 1.0
    return min(1.0, step / warmup_steps) ** 2


def pixel_entropy_weight(
    step: int,
    weight: float,
    warmup_steps: int,
    late_weight: float | None = None,
    late_from: int = 0,
) -> float:
    """λ_pixel at foreground step `step`: `weight` × the warm-up factor, or `late_weight`
    from step `late_from` on when one is given (our opt-in schedule, TrainConfig)."""
    if late_weight is not None and step >= late_from:
        return late_weight
    return weight * pixel_entropy_factor(step, warmup_steps)
