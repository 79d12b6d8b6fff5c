"""A model small enough that a training step takes a fraction of a second on a shared CPU,
and the synthetic scenes it trains on (shared by the tests and the torchrun worker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from training.config import Config
from training.data.synthetic import SceneConfig, SyntheticScenes
from training.presets import preset_config

TINY_SEGFORMER = {
    "hidden_sizes": [8, 16, 16, 16],
    "depths": [1, 1, 1, 1],
    "num_attention_heads": [1, 1, 1, 1],
    "decoder_hidden_size": 16,
}
# 32x32, K = 2, a 2-layer transformer of width 32; dropout on, so RNG state matters.
TINY_MODEL: dict[str, Any] = {
    "image_height": 32,
    "image_width": 32,
    "num_slots": 2,
    "slots_from_data": False,  # tests state K
    "segformer_overrides": TINY_SEGFORMER,
    "transformer_dim": 32,
    "transformer_heads": 2,
    "transformer_ff_dim": 64,
    "transformer_layers": 2,
    "transformer_dropout": 0.1,
    "glimpse_size": 16,
}
# The curriculum (the paper's default) and the paper's loss, whatever the `cpu` preset picks.
TINY_TRAIN: dict[str, Any] = {
    "scenario": "curriculum",
    "coverage_weight": 0.0,
    "batch_size": 4,
    "background_batch_size": 4,
    "background_steps": 2,
    "steps": 4,
    "frozen_background_steps": 2,
    "lr": 1e-3,
    "lr_warmup_steps": 2,
    "pixel_entropy_warmup_steps": 2,
    "validation_images": 0,
    "checkpoint_every": 1000,
    "keep_checkpoint_every": 0,
    "sample_every_s": 0.0,
    "num_workers": 0,
}
DATA_SPEC = "synthetic:size=32,objects=2,count=20"


def tiny_config(**train: Any) -> Config:
    """The `cpu` preset shrunk to TINY_MODEL, with TINY_TRAIN and `train` overrides."""
    overrides = {f"model.{k}": v for k, v in TINY_MODEL.items()}
    overrides.update({f"train.{k}": v for k, v in {**TINY_TRAIN, **train}.items()})
    return preset_config("cpu").with_overrides(overrides)


def tiny_yaml(path: Path, **train: Any) -> Path:
    """The same as a YAML file for `astseg train --preset cpu --config PATH`."""
    path.write_text(yaml.safe_dump({"model": TINY_MODEL, "train": {**TINY_TRAIN, **train}}))
    return path


def scenes(count: int = 24, seed: int = 0) -> SyntheticScenes:
    return SyntheticScenes(SceneConfig(height=32, width=32, max_objects=2, seed=seed), count)
