"""The progress of a run that is not in the model or optimiser: saved in every checkpoint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from training.trainer.phases import PlanKind


@dataclass
class TrainState:
    plan_kind: PlanKind
    background_steps: int  # what phase 1 runs (after the τ₀ test, 0 when skipped)
    step: int = 0  # global steps done (completed or skipped)
    complexity_checked: bool = False
    bad_in_row: int = 0  # consecutive non-finite steps
    skipped_steps: int = 0  # all non-finite steps so far
    images_seen: int = 0  # over all ranks
    best_score: float | None = None
    best_step: int | None = None
    validations: list[dict[str, Any]] = field(default_factory=list)
    background_from: str | None = None
    # Foreground step from which the lr is ÷ 10 because the time budget (train.
    # time_limit_minutes) reached lr_decay_fraction; kept so a resumed run stays decayed.
    lr_decay_from: int | None = None
    # the closed windows of active slots (trainer.slot_collapse.SlotActivity.to_dict)
    slot_windows: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainState:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
