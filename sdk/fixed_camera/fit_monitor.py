"""Tells a user, once and in one line, when the foreground covers far more of the view than
moving objects plausibly do: the background model does not explain this camera (issue 20).

Moving objects cover a small share of a fixed camera's view, and not in every frame. When
the median share over the last `WINDOW` frames passes `TOO_MUCH`, the masks are mostly the
model's failure, not objects, and `astseg run` says so instead of silently handing over
dozens of specks a frame. Training checks the same on its own frames
(training.trainer.background_fit); the two thresholds are one number.
"""

from __future__ import annotations

from collections import deque

import numpy as np

WINDOW = 50  # frames: long enough that one crowded moment does not trigger it
TOO_MUCH = 0.2  # median share of a frame marked foreground past which the fit has failed
ADVICE = (
    "train on more footage of this camera (a few minutes of it), raise --time-limit, or "
    "run with --masks-from slots"
)


def failing_fit_message(share: float, frames: int) -> str:
    return (
        f"warning: the background model does not explain this camera: {100 * share:.0f} % of "
        f"a typical frame is foreground over {frames} frames, far more than moving objects "
        f"cover; {ADVICE}."
    )


class FitMonitor:
    """Feed it each frame's foreground share; it answers the warning once, else None."""

    def __init__(self, window: int = WINDOW, too_much: float = TOO_MUCH) -> None:
        self.shares: deque[float] = deque(maxlen=window)
        self.too_much = too_much
        self.warned = False

    def update(self, foreground: np.ndarray | None) -> str | None:
        if foreground is None or self.warned:
            return None
        self.shares.append(float(np.count_nonzero(foreground)) / max(foreground.size, 1))
        if len(self.shares) < (self.shares.maxlen or 0):
            return None
        median = float(np.median(self.shares))
        if median <= self.too_much:
            return None
        self.warned = True
        return failing_fit_message(median, len(self.shares))
