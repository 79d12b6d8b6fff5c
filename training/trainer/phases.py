"""The phases of a run laid end to end on one global step axis (paper §4.2.2, Table 4).

curriculum:         background | foreground, background frozen | joint fine-tuning
baseline:           joint (everything from random initialisation)
frozen_background:  background | foreground, background frozen (for the whole run)
background only:    background (`astseg train background`)

Foreground phases share one foreground step counter (global step minus the background
steps): the lr warm-up/decay and the pixel-entropy warm-up run over phases 2 and 3 as one
schedule of `train.steps` steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from training.config import TrainConfig

PhaseKind = Literal["background", "frozen", "joint"]
PlanKind = Literal["curriculum", "baseline", "frozen_background", "background_only"]

PHASE_TITLES: dict[PhaseKind, str] = {
    "background": "background",
    "frozen": "foreground",
    "joint": "joint",
}


@dataclass(frozen=True)
class Phase:
    kind: PhaseKind
    start: int  # first global step
    end: int  # one past the last global step
    index: int  # position in the plan, also the data-order stream of the phase

    @property
    def steps(self) -> int:
        return self.end - self.start

    @property
    def trains_background(self) -> bool:
        return self.kind != "frozen"

    @property
    def trains_foreground(self) -> bool:
        return self.kind != "background"


@dataclass(frozen=True)
class PhasePlan:
    kind: PlanKind
    phases: tuple[Phase, ...]
    background_steps: int  # global steps spent in phase 1 (0 when skipped)
    foreground_steps: int  # the foreground schedule's length

    @property
    def total(self) -> int:
        return self.phases[-1].end if self.phases else 0

    def phase_at(self, step: int) -> Phase | None:
        """The phase that runs global step `step`; None once the plan is done."""
        for phase in self.phases:
            if phase.start <= step < phase.end:
                return phase
        return None

    def foreground_step(self, step: int) -> int:
        return step - self.background_steps

    def label(self, phase: Phase) -> str:
        return f"phase {phase.index + 1}/{len(self.phases)} {PHASE_TITLES[phase.kind]}"


def build_plan(train: TrainConfig, kind: PlanKind, background_steps: int) -> PhasePlan:
    """`background_steps` is what phase 1 actually runs: 0 when the background comes from
    another checkpoint, or longer than configured after the τ₀ complexity test."""
    if kind == "baseline":
        background_steps = 0
    lengths: list[tuple[PhaseKind, int]] = [("background", background_steps)]
    if kind == "curriculum":
        frozen = train.frozen_background_steps
        lengths += [("frozen", frozen), ("joint", train.steps - frozen)]
    elif kind == "frozen_background":
        lengths.append(("frozen", train.steps))
    elif kind == "baseline":
        lengths.append(("joint", train.steps))
    phases: list[Phase] = []
    start = 0
    for phase_kind, length in lengths:
        if length > 0:
            phases.append(Phase(phase_kind, start, start + length, len(phases)))
            start += length
    foreground = 0 if kind == "background_only" else train.steps
    return PhasePlan(kind, tuple(phases), background_steps, foreground)
