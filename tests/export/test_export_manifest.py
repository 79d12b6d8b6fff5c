"""What the manifest takes from a checkpoint, and JSON that is always valid."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from export.manifest import plain_json, training_info


def test_a_trainer_checkpoint_gives_its_latest_validation_and_progress() -> None:
    data = {
        "step": 9000,
        "phase": "joint",
        "state": {
            "plan_kind": "curriculum",
            "images_seen": 288000,
            "best_score": 0.91,
            "best_step": 8000,
            "validations": [
                {"step": 8000, "ari_fg": 0.91, "miou_fg": 0.70},
                {"step": 9000, "ari_fg": torch.tensor(0.9), "mse": float("inf")},
            ],
        },
        "optimizer": {"state": {}},
    }
    metrics, training = training_info(data, Path("runs/x/checkpoints/latest.pt"))
    assert metrics == {"validation_step": 9000, "ari_fg": 0.8999999761581421}
    assert training == {
        "step": 9000,
        "phase": "joint",
        "plan_kind": "curriculum",
        "images_seen": 288000,
        "best_score": 0.91,
        "best_step": 8000,
        "checkpoint": "latest.pt",
    }


def test_model_only_checkpoints_and_bare_ones() -> None:
    metrics, _ = training_info({"validation": {"step": 5, "ari_fg": 0.5}}, Path("best.pt"))
    assert metrics == {"validation_step": 5, "ari_fg": 0.5}
    assert training_info({}, Path("c.pt")) == ({}, {"checkpoint": "c.pt"})


def test_plain_json_keeps_nulls_and_drops_what_json_cannot_hold() -> None:
    value = {"a": None, "b": (1, 2.5), "c": float("nan"), "d": object(), "e": [float("inf"), 3]}
    out = plain_json(value)
    assert out == {"a": None, "b": [1, 2.5], "e": [None, 3]}
    json.dumps(out, allow_nan=False)
