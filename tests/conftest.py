"""Shared fixtures: tiny model configurations that run fast on two CPU cores."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Two cores: keep torch from oversubscribing when pytest runs beside other work.
os.environ.setdefault("OMP_NUM_THREADS", "2")

TINY_SEGFORMER = {
    "hidden_sizes": [8, 16, 24, 32],
    "depths": [1, 1, 1, 1],
    "num_attention_heads": [1, 1, 1, 1],
    "decoder_hidden_size": 32,
}


def tiny_model_config(**overrides):
    from training.config import ModelConfig

    values = {
        "image_height": 64,
        "image_width": 64,
        "num_slots": 3,
        "backbone": None,
        "segformer_overrides": TINY_SEGFORMER,
        "unet_channels": [8, 16, 16],
        "transformer_dim": 32,
        "transformer_heads": 2,
        "transformer_ff_dim": 64,
        "transformer_layers": 2,
        "transformer_dropout": 0.0,
        "z_what_dim": 8,
    }
    values.update(overrides)
    return ModelConfig(**values)


@pytest.fixture
def tiny_config():
    return tiny_model_config
