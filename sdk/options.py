"""How a Segmenter loads, filters and tracks, as one typed object with its defaults.

`Segmenter(...)`'s keyword arguments, `astseg run`'s options (through
`sdk.run.options.RunOptions`), `run_streams` and the background refresh all take their
defaults from here, so each default is written once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sdk.preprocess import Channels
from sdk.tracker import TrackerConfig


@dataclass(frozen=True)
class SegmenterOptions:
    """See `Segmenter.__init__` for what each option does."""

    backend: str = "auto"
    device: str | int = "auto"
    channels: Channels = "bgr"
    min_score: float = 0.0
    min_area: int = 16  # pixels of the original frame; smaller specks are noise
    track: bool = True
    tracker: TrackerConfig | None = None
    threads: int | None = None
    masks_from: str | None = None  # None: "fused" with a background model, else "slots"
    # sdk.fixed_camera.background_refresh: the background graph on every N-th frame of a
    # stream, and at once when the median grey level moves by more than this (0-255 scale)
    background_every: int = 4
    background_change: float = 2.0

    def __post_init__(self) -> None:
        if self.channels not in ("bgr", "rgb"):
            raise ValueError(f"channels is {self.channels!r}; use 'bgr' or 'rgb'.")
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score is {self.min_score}; it must be between 0 and 1.")
        if self.min_area < 1:
            raise ValueError(f"min_area is {self.min_area}; it must be at least 1 pixel.")

    def as_kwargs(self) -> dict[str, Any]:
        """The options as `Segmenter` keyword arguments (a tracker config stays an object)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


DEFAULTS = SegmenterOptions()
