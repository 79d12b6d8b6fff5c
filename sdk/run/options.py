"""What one run is asked for, from `astseg run`'s flags to the pipeline, as one object.

`RunOptions.segmenter` is how the Segmenter is built (`Segmenter.from_options`); the
other fields are how the pipeline reads the source and what it writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sdk.options import SegmenterOptions
from sdk.outputs.outputs import OutputOptions
from sdk.results import FrameResult
from sdk.sources.sources import SOURCE_TIMEOUT_S


@dataclass(frozen=True)
class RunOptions:
    segmenter: SegmenterOptions = SegmenterOptions()
    outputs: OutputOptions = OutputOptions()
    max_fps: float | None = None  # at most this many frames a second (None: as fast as read)
    stride: int = 1  # every stride-th frame of the source
    progress: bool = True
    timeout_s: float = SOURCE_TIMEOUT_S  # how long a camera or stream may take to open
    # Called with every result and its source frame, in order (e.g. to score a run).
    on_result: Callable[[FrameResult, np.ndarray], None] | None = None
