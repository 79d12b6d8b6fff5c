"""What `train` hands back, and what it reports after every step."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["completed", "interrupted", "time_limit", "paused"]


@dataclass
class StepRecord:
    """One global step as it ran: `skipped` when its loss or gradient was not finite."""

    step: int  # 0-based global index of the step
    phase: str
    losses: dict[str, float]
    lr: float
    skipped: bool


@dataclass
class TrainResult:
    run_dir: Path
    status: Status
    step: int  # global steps done
    total_steps: int
    checkpoint: Path  # latest.pt
    skipped_steps: int
    wall_s: float  # of this call (a resumed run counts from its resume)
    signal: str | None = None  # SIGINT / SIGTERM when interrupted
    validations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.status == "completed"
