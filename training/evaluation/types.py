"""The evaluation's shared types: what a predictor is and returns, and the report it gets.

This module imports nothing of training.evaluation; every other module there builds on it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sdk.outputs.output_paths import write_output
from sdk.outputs.timeline import ClipTimeline
from training.data.errors import DataError
from training.data.imageio import encode_png

# input, reconstruction, segmentation, ground truth (ids or CDnet labels)
GridRow = tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None]


# the headline figures of a section that `table()` prints (the JSON has them all)
_TABLE_KEYS = {
    "tracking": (
        *("hota", "idf1", "mota", "id_switches_per_100"),
        *("objects_per_frame", "true_objects_per_frame"),
    )
}


class PredictionLike(Protocol):
    segmentation: np.ndarray  # int [N, H, W], 0 = background, k = slot k
    reconstruction: np.ndarray | None  # float32 [N, H, W, 3] in [0, 1]


@dataclass
class Prediction:
    """What a predictor returns; `tracks` (optional) are per-pixel track ids for identity
    metrics on video (when absent, the segmentation's slot indices are used)."""

    segmentation: np.ndarray
    reconstruction: np.ndarray | None = None
    tracks: np.ndarray | None = None


class Predictor(Protocol):
    """Anything that segments a batch of RGB uint8 images [N, H, W, 3] at `image_size`."""

    @property
    def image_size(self) -> tuple[int, int]: ...  # (height, width)

    def predict(self, images: np.ndarray) -> PredictionLike: ...


@dataclass
class EvalReport:
    """Every metric of one evaluation; `grid` is the picture (uint8 RGB) or None."""

    metrics: dict[str, Any]
    grid: np.ndarray | None = None
    # objects (IDs: tracks, else segmentation labels) in each scored image, in order
    timeline: ClipTimeline = field(default_factory=ClipTimeline)
    sequences: bool = False  # whether the images were frames of videos

    def to_json(self) -> str:
        return json.dumps(_finite(self.metrics), indent=2) + "\n"

    def write_json(self, path: str | Path) -> None:
        write_output(path, self.to_json())

    def write_grid(self, path: str | Path) -> None:
        if self.grid is None:
            raise DataError("no grid was drawn (the evaluation saw no images)")
        write_output(path, encode_png(self.grid))

    def table(self) -> str:
        """A plain-text table of the headline numbers, one metric per line."""
        rows = [(key, value) for key, value in self.metrics.items() if not isinstance(value, dict)]
        for section in ("cdnet", "identity", "tracking"):
            part = self.metrics.get(section, {})
            shown = _TABLE_KEYS.get(section)
            for key, value in part.get("mean", {}).items():
                if shown is None or key in shown:
                    rows.append((f"{section}.{key}", value))
            if "skipped" in part:
                rows.append((section, part["skipped"]))
        width = max(len(k) for k, _ in rows)
        lines = []
        for key, value in rows:
            text = "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else value
            lines.append(f"{key.ljust(width)}  {text}")
        return "\n".join(lines)


def _finite(value: Any) -> Any:
    """NaN is not JSON: undefined numbers become null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
