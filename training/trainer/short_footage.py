"""Short footage: a user may have a few seconds of their camera (CDnet slices: 101 frames).

Nothing changes in how such a run trains (a time limit sizes it; batches cycle through the
frames), but it says how many passes over the frames it makes, so a user knows whether the
footage or the budget limits the model.
"""

from __future__ import annotations

from training.config import TrainConfig
from training.trainer.phases import PhasePlan

SHORT_FOOTAGE = 1_000  # frames; below this the run says how often it will see each one


def describe_epochs(frames: int, plan: PhasePlan, train: TrainConfig) -> str | None:
    """One line for short footage: how many passes over its frames each phase makes."""
    if frames <= 0 or frames >= SHORT_FOOTAGE:
        return None
    passes = []
    for phase in plan.phases:
        batch = train.background_batch_size if phase.kind == "background" else train.batch_size
        passes.append(f"{plan.label(phase)} {phase.steps * batch / frames:,.0f} passes")
    return (
        f"short footage: {frames} frames; at most {', '.join(passes)} over them (a time limit "
        "ends it sooner); frames are not augmented: a fixed camera's own view is what the "
        "model must learn"
    )
