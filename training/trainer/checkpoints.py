"""What a training checkpoint holds, and writing it without ever losing the previous one.

A checkpoint holds everything a resumed run needs to continue exactly where the killed
run stood: model, optimiser, grad scaler, step and phase, the `TrainState`, RNG states and
the data order position, plus the config, so `training.checkpoint.load_model` can rebuild
the model from the file alone. Files go through `save_checkpoint` (temp file + fsync +
rename): a kill or a full disk mid-write leaves the previous file as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from training.config import Config, ModelConfig
from training.model import ASTSeg
from training.trainer.errors import TrainingError
from training.trainer.rng import capture_rng
from training.trainer.state import TrainState


def training_payload(
    config: Config,
    model: ASTSeg,
    state: TrainState,
    phase: str,
    optimizer: torch.optim.Optimizer | None,
    optimizer_kind: str | None,
    scaler: torch.amp.GradScaler | None,
    data_order: dict[str, int],
) -> dict[str, Any]:
    return {
        "config": config.to_dict(),
        "model": model.state_dict(),
        "step": state.step,
        "phase": phase,
        "state": state.to_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "optimizer_kind": optimizer_kind,
        "scaler": None if scaler is None else scaler.state_dict(),
        "rng": capture_rng(),
        "data_order": data_order,
    }


def model_payload(config: Config, model: ASTSeg, state: TrainState, phase: str) -> dict[str, Any]:
    """A model-only checkpoint (snapshots, best): loads with `load_model`, cannot resume."""
    progress = (
        "plan_kind",
        "background_steps",
        "background_from",
        "images_seen",
        "skipped_steps",
        "best_score",
        "best_step",
    )
    return {
        "config": config.to_dict(),
        "model": model.state_dict(),
        "step": state.step,
        "phase": phase,
        "validation": state.validations[-1] if state.validations else None,
        "state": {k: v for k, v in state.to_dict().items() if k in progress},
    }


def write(path: Path, payload: dict[str, Any], previous: Path | None = None) -> None:
    """Writes atomically; a failure (full disk, permissions) ends the run with one sentence."""
    try:
        save_checkpoint(path, payload)
    except (OSError, RuntimeError) as err:
        # torch.save reports a failed write (ENOSPC, EFBIG) as a RuntimeError of its zip
        # writer, with the OSError as its context.
        cause = _os_error(err)
        if cause is None:
            raise
        kept = f"; {previous} is intact" if previous is not None and previous.is_file() else ""
        raise TrainingError(
            f"could not write checkpoint {path} ({cause.strerror or cause}){kept}; free space or "
            "fix the folder, then continue with --resume"
        ) from None


def _os_error(err: BaseException | None) -> OSError | None:
    seen = 0
    while err is not None and seen < 8:
        if isinstance(err, OSError):
            return err
        err, seen = err.__cause__ or err.__context__, seen + 1
    return None


def read_for_resume(path: Path) -> dict[str, Any]:
    data = load_checkpoint(path)
    missing = [k for k in ("state", "optimizer", "rng", "config") if k not in data]
    if missing:
        raise CheckpointError(
            f"checkpoint '{path}' holds a model only ({', '.join(missing)} missing) and cannot "
            "resume a run; use it with --background-from or astseg eval"
        )
    return data


def _model_config(data: dict[str, Any], path: str | Path) -> ModelConfig:
    try:
        return Config.from_dict(data.get("config", {})).model
    except ValueError as err:
        raise CheckpointError(f"checkpoint '{path}' has an invalid config: {err}") from None


def decided_light_matching(source: ModelConfig) -> int | None:
    """The rule's light matching a background's run measured its noise map under, or None
    when that run left it to be decided and never did."""
    return None if source.light_from_data else int(source.foreground_rule.get("relight", 0))


def background_size_of(path: str | Path) -> tuple[int, int]:
    """(H, W) the background model of checkpoint `path` was built at."""
    return _model_config(load_checkpoint(path), path).background_size


def load_background_weights(path: str | Path, model: ASTSeg) -> ModelConfig:
    """Copies the background autoencoder of another checkpoint (e.g. `astseg train
    background`) into `model`; both must be built for the same background size. Returns
    that checkpoint's model config (what its background was measured with)."""
    data = load_checkpoint(path)
    prefix = "background."
    weights = {
        k[len(prefix) :]: v for k, v in data.get("model", {}).items() if k.startswith(prefix)
    }
    if not weights:
        raise CheckpointError(f"checkpoint '{path}' holds no background model")
    source = _model_config(data, path)
    size = source.background_size
    ours = model.config.background_size
    if size != ours:
        raise CheckpointError(
            f"background checkpoint '{path}' was trained at {size[0]}x{size[1]} but this run's "
            f"background model is {ours[0]}x{ours[1]}; leave model.background_height/width at 0 "
            "to adopt its size, or train the background at this size"
        )
    try:
        model.background.load_state_dict(weights)
    except RuntimeError as err:
        raise CheckpointError(
            f"background checkpoint '{path}' does not fit this model "
            f"({str(err).splitlines()[0][:160]})"
        ) from None
    return source


def saved_step(path: Path) -> int:
    """The global step a checkpoint was written at."""
    return int(load_checkpoint(path)["step"])
