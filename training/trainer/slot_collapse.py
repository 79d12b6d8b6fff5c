"""Says when the slot model falls back to drawing the background only (issue 22).

On the default model's video recipe with six slots, the slots held two objects a training
image for 7 000 steps and then, within a few hundred steps, let go of all of them: every
slot's activation fell under the background's, and the run saved a model that draws no
object (docs/cpu-recipe.md §13.2). Nothing in the losses says so (the reconstruction error
barely moves: the background layer draws the objects' pixels too), so the trainer watches
the number of slots that own pixels per training image, which it already logs, and says so
when the last window's mean has fallen under half of the best window's.

It also keeps the model of the last window whose slots still held their share
(`holds`), so that a collapsed run ends with a model that draws objects: the trainer
writes it to checkpoints/slots_active.pt as windows close and, when the run ends in a
collapse, to checkpoints/before_collapse.pt, which `astseg export RUN` takes
(`training.checkpoint.checkpoint_to_export`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

WINDOW = 500  # foreground steps per mean: a collapse takes a few hundred
FALL = 0.5  # a last window under this share of the best one is a collapse
MIN_PEAK = 0.5  # slots per image: below it the slots never held objects to lose
TAIL = 0.2  # the share of a window, at its end, whose mean must hold too


@dataclass(frozen=True)
class WindowMean:
    first_step: int
    last_step: int
    mean: float
    # the mean over the window's last TAIL of steps: a fall inside the window shows here
    tail: float | None = None


class SlotActivity:
    """Means of the active slots per training image over windows of `window` steps."""

    def __init__(self, window: int = WINDOW) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1 step, got {window}")
        self.window = window
        self.best: WindowMean | None = None
        self.last: WindowMean | None = None
        self._first_step = 0
        self._total = 0.0
        self._count = 0
        self._tail_from = window - max(1, round(TAIL * window))  # steps before the tail
        self._tail_total = 0.0

    def add(self, step: int, active: float) -> WindowMean | None:
        """Counts one step; returns the window this step closed, if it closed one."""
        if self._count == 0:
            self._first_step = step
        self._total += active
        if self._count >= self._tail_from:
            self._tail_total += active
        self._count += 1
        if self._count < self.window:
            return None
        tail = self._tail_total / (self.window - self._tail_from)
        closed = WindowMean(self._first_step, step, self._total / self._count, tail)
        self.last = closed
        if self.best is None or closed.mean > self.best.mean:
            self.best = closed
        self._total, self._count, self._tail_total = 0.0, 0, 0.0
        return closed

    def holds(self, window: WindowMean) -> bool:
        """Whether the slots still held objects at the end of `window` (the model then is
        worth keeping): the best window so far reached MIN_PEAK, and this one keeps at
        least FALL of it, over the whole window and over its last TAIL of steps."""
        floor = self._floor()
        tail = window.mean if window.tail is None else window.tail
        return floor is not None and min(window.mean, tail) >= floor

    def _floor(self) -> float | None:
        """The active slots per image a window must keep: FALL of the best window's; None
        while the best has not reached MIN_PEAK (no objects held yet, none to lose)."""
        best = self.best
        return None if best is None or best.mean < MIN_PEAK else FALL * best.mean

    def to_dict(self) -> dict[str, Any]:
        """The closed windows that matter, for the checkpoint (a resumed run keeps its best)."""
        return {
            "window": self.window,
            "best": None if self.best is None else asdict(self.best),
            "last": None if self.last is None else asdict(self.last),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, window: int = WINDOW) -> SlotActivity:
        """A SlotActivity that goes on from a checkpoint's `to_dict` (fresh for None, or for
        windows of another length)."""
        activity = cls(window)
        if data is None or data.get("window") != window:
            return activity
        best, last = data.get("best"), data.get("last")
        activity.best = None if best is None else WindowMean(**best)
        activity.last = None if last is None else WindowMean(**last)
        return activity

    def collapse_message(self) -> str | None:
        """One sentence when the last full window holds under FALL of the best one's slots."""
        best, last, floor = self.best, self.last, self._floor()
        if best is None or last is None or floor is None or last.mean >= floor:
            return None
        return (
            f"slot collapse: {best.mean:.2f} slots per training image drew something at "
            f"steps {best.first_step}-{best.last_step} but {last.mean:.2f} at steps "
            f"{last.first_step}-{last.last_step}; the saved model draws few objects or none. "
            "Train again with fewer slots (--slots), see docs/cpu-recipe.md §13.2."
        )
