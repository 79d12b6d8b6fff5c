"""What a run tells people while it runs: TensorBoard scalars and the live progress bar.

Only rank 0 reports; the other ranks get inert objects so the loop reads the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm


class ScalarLog:
    """TensorBoard event files in the run folder; `purge_step` drops events a killed run
    wrote after its last checkpoint, so a resumed curve has no doubled tail."""

    def __init__(self, folder: Path | None, purge_step: int | None = None) -> None:
        self._writer: Any = None
        if folder is not None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(folder), purge_step=purge_step or None)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if self._writer is not None:
            for name, value in values.items():
                self._writer.add_scalar(name, value, step)

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


_SHORT = {
    "reconstruction": "rec",
    "pixel_entropy": "ent",
    "background": "bg",
}


PACE_STEPS = 5  # steps of a phase measured before its pace sets the total


class ProgressBar:
    """phase, step/total, it/s and ETA (tqdm's own), loss terms and the last validation.

    Under a time limit the total is the step the run will reach when its time is up (the
    current phase's pace times the time left, at most the plan's total), so tqdm's
    "remaining" is the limit's, not that of a plan the budget will cut short.
    """

    def __init__(
        self,
        total: int,
        initial: int,
        enabled: bool,
        deadline: float | None = None,  # time.monotonic() when the time limit ends
    ) -> None:
        self._bar = tqdm(
            total=total,
            initial=initial,
            unit="step",
            dynamic_ncols=True,
            disable=not enabled,
            smoothing=0.05,
        )
        self.validation = ""
        self.plan_total = total
        self.deadline = deadline
        self._pace_from = (time.monotonic(), initial)

    def set_phase(self, label: str) -> None:
        self._bar.set_description(label, refresh=False)
        self._pace_from = (time.monotonic(), self._bar.n)  # each phase has its own pace

    def _follow_deadline(self) -> None:
        if self.deadline is None:
            return
        now = time.monotonic()
        since, first = self._pace_from
        done = self._bar.n - first
        if done < PACE_STEPS or now <= since:
            return
        reachable = self._bar.n + int(done / (now - since) * max(0.0, self.deadline - now))
        self._bar.total = min(self.plan_total, max(reachable, self._bar.n + 1))

    def advance(self, losses: dict[str, float]) -> None:
        parts = {_SHORT.get(k, k): f"{v:.4g}" for k, v in losses.items()}
        if self.validation:
            parts["val"] = self.validation
        self._bar.set_postfix(parts, refresh=False)
        self._follow_deadline()
        self._bar.update(1)

    def set_total(self, total: int) -> None:
        self.plan_total = total
        self._bar.total = total
        self._follow_deadline()
        self._bar.refresh()

    def write(self, line: str, echo: Callable[[str], None]) -> None:
        """A line between bar refreshes (the bar is redrawn below it); `echo` when no bar."""
        if self._bar.disable:
            echo(line)
        else:
            self._bar.write(line)

    def close(self) -> None:
        self._bar.close()
