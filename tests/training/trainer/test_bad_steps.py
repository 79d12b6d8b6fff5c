"""A NaN/inf step is skipped and counted; a streak of them stops the run, keeping the last
good checkpoint."""

from __future__ import annotations

import hashlib
import math

import pytest
import torch
from trainer_fixtures import scenes, tiny_config

from training import objective
from training.checkpoint import load_model
from training.trainer import TrainingError, train


def _poison(monkeypatch, bad_steps, seen):
    """Makes the foreground loss NaN at the given foreground steps; records the weights."""
    real = objective.foreground_step_loss

    def foreground_step_loss(model, images, step, train_cfg, background=None):
        seen.append(float(sum(p.detach().double().sum() for p in model.foreground_parameters())))
        terms, out = real(model, images, step, train_cfg, background)
        if step in bad_steps:
            terms.total = terms.total * torch.tensor(math.nan)
        return terms, out

    monkeypatch.setattr(objective, "foreground_step_loss", foreground_step_loss)


def test_non_finite_steps_are_skipped_and_counted(tmp_path, monkeypatch):
    seen: list[float] = []
    _poison(monkeypatch, {1, 2}, seen)
    records: list = []
    result = train(
        tiny_config(scenario="baseline", steps=5, max_bad_steps=3),
        scenes(),
        tmp_path / "run",
        on_step=records.append,
        progress=False,
        echo=lambda line: None,
    )
    assert result.completed and result.skipped_steps == 2
    assert [r.skipped for r in records] == [False, True, True, False, False]
    # Weights move after a good step, not after a skipped one.
    assert seen[0] != seen[1] == seen[2] == seen[3] != seen[4]


def test_a_streak_of_bad_steps_stops_the_run_and_keeps_the_last_good_checkpoint(
    tmp_path, monkeypatch
):
    seen: list[float] = []
    _poison(monkeypatch, set(range(2, 100)), seen)
    config = tiny_config(scenario="baseline", steps=10, max_bad_steps=3, checkpoint_every=2)
    latest = tmp_path / "run/checkpoints/latest.pt"
    with pytest.raises(TrainingError) as err:
        train(config, scenes(), tmp_path / "run", progress=False, echo=lambda line: None)
    message = str(err.value)
    assert "NaN/inf for 3 steps in a row" in message and "stopped at step 4" in message
    assert f"the last good checkpoint {latest} is intact" in message and "\n" not in message
    model, _, data = load_model(latest)
    assert data["step"] == 2 and data["state"]["bad_in_row"] == 0
    digest = float(sum(p.detach().double().sum() for p in model.foreground_parameters()))
    assert digest == pytest.approx(seen[2], abs=0, rel=1e-12)  # the weights before the streak
    before = hashlib.sha256(latest.read_bytes()).hexdigest()
    # Resuming with the same poison fails the same way and leaves the file untouched.
    with pytest.raises(TrainingError):
        train(None, None, tmp_path / "run", resume=True, progress=False, echo=lambda line: None)
    assert hashlib.sha256(latest.read_bytes()).hexdigest() == before
