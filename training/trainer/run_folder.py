"""The files of one run: where each lives, and writing them so none is ever half-written.

RUN/
  config.yaml           the resolved config (also printed at start)
  checkpoints/          latest.pt, best.pt, background.pt (end of phase 1), step_NNNNNNN.pt,
                        slots_active.pt, before_collapse.pt (trainer.slot_collapse)
  samples/              sample sheets (PNG), latest.png is the newest
  validation.json       every validation so far (metric vs. step)
  events.out.tfevents.* TensorBoard
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sdk.outputs.atomic import write_bytes_atomic
from training.checkpoint import BEFORE_COLLAPSE_NAME, LATEST_NAME, PARTIAL_SUFFIX
from training.trainer.errors import TrainingError


def write_run_file(path: Path, data: bytes) -> None:
    """Whole or not at all, on disk before the rename; a `.tmp` partial file left by a kill is
    swept by `remove_partial_writes`."""
    write_bytes_atomic(path, data, suffix=PARTIAL_SUFFIX, durable=True)


class RunFolder:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.checkpoints = self.root / "checkpoints"
        self.samples = self.root / "samples"

    @property
    def latest(self) -> Path:
        return self.checkpoints / LATEST_NAME

    @property
    def best(self) -> Path:
        return self.checkpoints / "best.pt"

    @property
    def slots_active(self) -> Path:
        """The model of the last window whose slots held objects (trainer.slot_collapse)."""
        return self.checkpoints / "slots_active.pt"

    @property
    def before_collapse(self) -> Path:
        return self.checkpoints / BEFORE_COLLAPSE_NAME

    @property
    def background(self) -> Path:
        return self.checkpoints / "background.pt"

    @property
    def config_file(self) -> Path:
        return self.root / "config.yaml"

    @property
    def validation_file(self) -> Path:
        return self.root / "validation.json"

    def snapshot(self, step: int) -> Path:
        return self.checkpoints / f"step_{step:07d}.pt"

    def has_run(self) -> bool:
        return self.latest.is_file()

    def create(self) -> None:
        try:
            self.checkpoints.mkdir(parents=True, exist_ok=True)
            self.samples.mkdir(exist_ok=True)
        except OSError as err:
            raise TrainingError(
                f"cannot create run folder '{self.root}' ({err.strerror or err}); choose another "
                "--out"
            ) from None

    def remove_partial_writes(self) -> None:
        """Temp files left by a process killed mid-write (the real files are untouched)."""
        for folder in (self.checkpoints, self.samples, self.root):
            if folder.is_dir():
                for tmp in folder.glob(f".*{PARTIAL_SUFFIX}"):
                    tmp.unlink(missing_ok=True)

    def write_text(self, path: Path, text: str) -> None:
        write_run_file(path, text.encode("utf-8"))

    def write_validation(self, records: list[dict[str, Any]]) -> None:
        """JSON has no NaN: an undefined metric is written as null."""
        clean = [
            {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in r.items()}
            for r in records
        ]
        self.write_text(self.validation_file, json.dumps(clean, indent=1) + "\n")
