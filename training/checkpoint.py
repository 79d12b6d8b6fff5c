"""Checkpoint files: written atomically, loaded without running any pickled code.

A checkpoint is a dict of tensors and plain Python values (`torch.save`), loaded
with `weights_only=True`, so a crafted file cannot execute code. It always holds
the config, so the file alone rebuilds its model.
"""

from __future__ import annotations

import os  # noqa: F401  (tests reach os.fdopen, which opens the file, through here)
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from sdk.errors import AstsegError
from sdk.outputs.atomic import atomic_file
from training.config import Config
from training.model import ASTSeg

CHECKPOINT_FORMAT = "astseg-checkpoint"
CHECKPOINT_VERSION = 1
LATEST_NAME = "latest.pt"
# written when a run ends with its slots collapsed: the model before the fall (issue 22)
BEFORE_COLLAPSE_NAME = "before_collapse.pt"
ZIP_MAGIC = b"PK\x03\x04"  # how every file torch.save writes begins
PARTIAL_SUFFIX = ".tmp"  # a run folder's half-written files: `.NAME.XXXXXXXX.tmp`


class CheckpointError(AstsegError):
    """A checkpoint is missing, unreadable, unsafe, or does not match its config."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Writes `payload` to `path` via a temp file + fsync + rename: never a half-written file."""
    path = Path(path)
    data = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **payload}
    with atomic_file(path, suffix=PARTIAL_SUFFIX, durable=True) as handle:
        torch.save(data, handle)
    return path


def _checkpoint_folders(path: Path) -> tuple[Path, Path]:
    """Where a folder given for a checkpoint holds it: a run folder's checkpoints/, or the
    folder itself (the checkpoints/ folder given directly)."""
    return path / "checkpoints", path


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file, or a run folder whose `checkpoints/latest.pt` is used."""
    path = Path(path)
    if path.is_dir():
        for folder in _checkpoint_folders(path):
            if (folder / LATEST_NAME).is_file():
                return folder / LATEST_NAME
        raise CheckpointError(
            f"no checkpoint in run folder '{path}' (expected checkpoints/latest.pt)"
        )
    if not path.exists():
        raise CheckpointError(f"checkpoint '{path}' does not exist")
    return path


def checkpoint_to_export(path: str | Path) -> tuple[Path, str | None]:
    """What `astseg export` takes from `path`, and a line saying so when it is not the
    run's latest.pt: a run folder whose run ended with its slots collapsed exports the
    model from before the collapse (training.trainer.slot_collapse)."""
    path = Path(path)
    if path.is_dir():
        for folder in _checkpoint_folders(path):
            kept = folder / BEFORE_COLLAPSE_NAME
            if kept.is_file():
                return kept, (
                    f"exporting {kept}: the run's slots collapsed, and this is its model from "
                    f"before (give {folder / LATEST_NAME} to export the last one)"
                )
    return resolve_checkpoint(path), None


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = resolve_checkpoint(path)
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint '{path}' is empty")
    with path.open("rb") as handle:
        head = handle.read(4)
    if head != ZIP_MAGIC:
        # torch.save has written zip archives since torch 1.6, and so has every astseg; the
        # legacy reader would unpickle text or noise into a KeyError or worse.
        raise CheckpointError(
            f"'{path}' is not an astseg checkpoint (not a file torch.save wrote); give the "
            "checkpoints/latest.pt of an `astseg train` run, or its run folder"
        )
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"checkpoint '{path}' holds objects other than tensors and plain values and was "
            f"refused for safety{_refused_global(str(err))}; load only checkpoints astseg wrote"
        ) from None
    except Exception as err:  # a damaged archive fails inside torch in many ways
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise CheckpointError(
            f"checkpoint '{path}' is corrupt or truncated ({_clip(first)}); copy it again or "
            "use an earlier checkpoint"
        ) from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"'{path}' is not an astseg checkpoint")
    if data.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"checkpoint '{path}' has format version {data.get('version')}; this astseg reads "
            f"version {CHECKPOINT_VERSION}"
        )
    return data


def _refused_global(message: str) -> str:
    """' (it would call posix.system)' from torch's refusal, or '' when it names none."""
    found = re.search(r"GLOBAL ([\w.]+)", message)
    return f" (it would call {found.group(1)})" if found else ""


def _clip(text: str, limit: int = 160) -> str:
    """At most `limit` characters, cut at a word boundary, never mid-word."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " ..."


def load_model(
    path: str | Path, map_location: str | torch.device = "cpu"
) -> tuple[ASTSeg, Config, dict[str, Any]]:
    """Rebuilds the model from the checkpoint's own config and loads its weights."""
    data = load_checkpoint(path, map_location)
    try:
        config = Config.from_dict(data["config"])
    except (KeyError, ValueError) as err:
        raise CheckpointError(f"checkpoint '{path}' has an invalid config: {err}") from None
    model = ASTSeg(config.model)
    try:
        model.load_state_dict(data["model"])
    except (KeyError, RuntimeError) as err:
        first = _clip(str(err).splitlines()[0], 200)
        raise CheckpointError(
            f"checkpoint '{path}' does not match the model its config describes ({first})"
        ) from None
    model.to(map_location)
    model.eval()
    return model, config, data


def background_untrained_reason(data: dict[str, Any]) -> str | None:
    """Why the checkpoint's background model is not fit for fixed-camera mode, or None.

    Its robust loss (the one that trains the noise channel) runs only in phase 1 or in
    `astseg train background`: a baseline run never ran it, and a run stopped inside phase
    1 has only part of it. A checkpoint that says nothing about its run (written by hand or
    by an astseg before the training state was saved) is taken as trained.
    """
    state = data.get("state") if isinstance(data.get("state"), dict) else {}
    kind = state.get("plan_kind", data.get("scenario"))
    if state.get("background_from"):
        return None
    if kind == "baseline":
        return "its baseline scenario never trained the background model alone (phase 1)"
    steps, step = state.get("background_steps"), state.get("step", data.get("step"))
    if isinstance(steps, int) and isinstance(step, int) and steps > 0 and step < steps:
        return f"it stopped at step {step}, inside background pre-training ({steps} steps)"
    if kind is not None and steps == 0:
        return "its run skipped background pre-training"
    return None
