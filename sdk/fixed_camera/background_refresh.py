"""When a stream needs a fresh background: the background graph is the costliest part of
fixed-camera mode, and for a fixed camera its output changes slowly.

The background model reconstructs the scene without its moving objects; between two
frames a fraction of a second apart that reconstruction barely moves, except when the
light switches or the camera shifts. So the graph runs on every `every`-th frame of a
stream, and at once on any frame whose small grey thumbnail differs from the one of the
frame the background came from by more than `max_change` grey levels in the median. The
median ignores moving objects (they cover well under half a fixed camera's view) and
reacts to what moves everything: a light switch, a camera knock. `every=1` runs the
graph on every frame (what `astseg eval` does, since its images need not be a stream).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from sdk.options import DEFAULTS

THUMBNAIL = (40, 30)  # width, height: enough for a median, ~0.05 ms to make


def thumbnail(image: np.ndarray) -> np.ndarray:
    """uint8 RGB [3, H, W] (the background graph's input) -> float32 grey [30, 40]."""
    grey = image.astype(np.float32).mean(axis=0)
    return cv2.resize(grey, THUMBNAIL, interpolation=cv2.INTER_AREA)


@dataclass
class BackgroundRefresh:
    """Decides, frame by frame of one stream, whether the background graph must run."""

    every: int = DEFAULTS.background_every
    max_change: float = DEFAULTS.background_change  # grey levels, median over the thumbnail
    _since: int = field(default=0, init=False)
    _reference: np.ndarray | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError(f"background_every is {self.every}; it must be 1 or more.")
        if not (np.isfinite(self.max_change) and self.max_change >= 0):
            raise ValueError(f"background_change is {self.max_change}; it must be 0 or more.")

    def reset(self) -> None:
        """A new stream: the next frame gets its own background."""
        self._since, self._reference = 0, None

    def needs(self, image: np.ndarray) -> bool:
        """Whether `image` (uint8 RGB [3, Hb, Wb]) gets a fresh background; records it if so."""
        if self.every == 1:
            return True
        small = thumbnail(image)
        stale = self._reference is None or self._since >= self.every - 1
        if not stale:
            assert self._reference is not None
            stale = float(np.median(np.abs(small - self._reference))) > self.max_change
        if stale:
            self._reference, self._since = small, 0
        else:
            self._since += 1
        return stale
