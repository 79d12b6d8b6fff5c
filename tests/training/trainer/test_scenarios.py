"""Each scenario trains what it should, phase by phase, and leaves a complete run folder."""

from __future__ import annotations

import cv2
import pytest
import torch
from trainer_fixtures import scenes, tiny_config

from training import objective
from training.checkpoint import CheckpointError, load_checkpoint, load_model
from training.trainer import loop, train


def _digest(params) -> float:
    return float(sum(p.detach().double().sum() * (i + 1) for i, p in enumerate(params)))


@pytest.fixture
def spy(monkeypatch):
    """Records, before each step's loss, a digest of the background and foreground weights."""
    seen: list[tuple[str, float, float]] = []

    def record(kind, model):
        seen.append(
            (kind, _digest(model.background.parameters()), _digest(model.foreground_parameters()))
        )

    real_bg, real_fg = objective.background_step_loss, objective.foreground_step_loss

    def background_step_loss(model, images):
        record("background", model)
        return real_bg(model, images)

    def foreground_step_loss(model, images, step, train_cfg, background=None):
        record("frozen" if background is not None else "joint", model)
        return real_fg(model, images, step, train_cfg, background)

    monkeypatch.setattr(objective, "background_step_loss", background_step_loss)
    monkeypatch.setattr(objective, "foreground_step_loss", foreground_step_loss)
    return seen


def _train(config, out, **kwargs):
    return train(config, scenes(), out, progress=False, echo=lambda line: None, **kwargs)


def test_curriculum_freezes_then_releases_the_background(tmp_path, spy):
    result = _train(tiny_config(steps=4, frozen_background_steps=2), tmp_path / "ct")
    assert result.completed and result.step == 6
    kinds = [k for k, _, _ in spy]
    assert kinds == ["background"] * 2 + ["frozen"] * 2 + ["joint"] * 2
    bg = [b for _, b, _ in spy] + [_digest(load_model(tmp_path / "ct")[0].background.parameters())]
    fg = [f for _, _, f in spy]
    assert bg[0] != bg[1] != bg[2]  # phase 1 trains the background ...
    assert fg[0] == fg[1] == fg[2]  # ... and nothing else
    assert bg[2] == bg[3] == bg[4]  # phase 2: background frozen
    assert fg[2] != fg[3] != fg[4]
    assert bg[4] != bg[5] != bg[6]  # phase 3: both train
    background_ckpt = load_checkpoint(tmp_path / "ct/checkpoints/background.pt")
    assert background_ckpt["step"] == 2 and "optimizer" not in background_ckpt


def test_baseline_trains_everything_from_the_first_step(tmp_path, spy):
    result = _train(tiny_config(scenario="baseline", steps=3), tmp_path / "bt")
    assert result.step == 3 and [k for k, _, _ in spy] == ["joint"] * 3
    assert spy[0][1] != spy[1][1] and spy[0][2] != spy[1][2]
    assert not (tmp_path / "bt/checkpoints/background.pt").exists()


def test_frozen_background_scenario_never_trains_the_background_again(tmp_path, spy):
    result = _train(tiny_config(scenario="frozen_background", steps=3), tmp_path / "fb")
    assert result.step == 5
    assert [k for k, _, _ in spy] == ["background"] * 2 + ["frozen"] * 3
    final = load_model(tmp_path / "fb")[0]
    assert spy[2][1] == spy[4][1] == _digest(final.background.parameters())


def test_background_only_run_then_background_from(tmp_path, spy, monkeypatch):
    bg = _train(tiny_config(), tmp_path / "bg", background_only=True)
    assert bg.step == 2 and [k for k, _, _ in spy] == ["background"] * 2
    trained = load_model(tmp_path / "bg/checkpoints/background.pt")[0]
    spy.clear()
    from_bg = tmp_path / "bg/checkpoints/background.pt"
    config = tiny_config(steps=2, frozen_background_steps=1)
    _train(config, tmp_path / "fg", background_from=from_bg)
    assert [k for k, _, _ in spy] == ["frozen", "joint"]  # phase 1 skipped
    assert spy[0][1] == _digest(trained.background.parameters())

    # A bigger slot model adopts the background model's own size (automatic)...
    bigger = tiny_config(steps=1, frozen_background_steps=1).with_overrides(
        {"model.image_height": 48, "model.image_width": 48}
    )
    _train(bigger, tmp_path / "big", background_from=from_bg)
    saved = load_checkpoint(tmp_path / "big")["config"]["model"]
    assert (saved["image_height"], saved["background_height"]) == (48, 32)
    # ...but a background size the config states must match it.
    wrong = bigger.with_overrides({"model.background_height": 48, "model.background_width": 48})
    with pytest.raises(CheckpointError, match="trained at 32x32 but this run's background model"):
        train(wrong, scenes(), tmp_path / "x", background_from=tmp_path / "bg", progress=False)


@pytest.mark.parametrize("varies", [True, False])
def test_tau0_test_extends_background_training_when_it_still_varies(tmp_path, monkeypatch, varies):
    monkeypatch.setattr(loop, "background_is_complex", lambda backgrounds: varies)
    config = tiny_config(background_steps=1, background_steps_if_complex=3)
    result = _train(config, tmp_path / "bg", background_only=True)
    assert (result.step, result.total_steps) == ((3, 3) if varies else (1, 1))
    state = load_checkpoint(tmp_path / "bg")["state"]
    assert state["complexity_checked"] and state["background_steps"] == result.step


def test_run_folder_holds_config_validation_best_samples_snapshots_and_events(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = tiny_config(
        validation_images=4, validate_every=2, keep_checkpoint_every=3, sample_every_s=1e-9
    )
    result = _train(config, tmp_path / "run")
    run = tmp_path / "run"
    assert (run / "config.yaml").read_text().count("frozen_background_steps: 2") == 1
    assert [v["step"] for v in result.validations] == [4, 6]  # every 2 foreground steps
    assert {"ari_fg", "miou_fg", "miou", "msc_fg", "mse"} <= set(result.validations[0])
    assert 0.0 <= result.validations[-1]["miou"] <= 1.0 and result.validations[-1]["mse"] > 0
    assert (run / "validation.json").is_file()
    best = load_checkpoint(run / "checkpoints/best.pt")
    assert best["step"] in (4, 6) and best["validation"]["ari_fg"] == max(
        v["ari_fg"] for v in result.validations
    )
    snapshot = load_checkpoint(run / "checkpoints/step_0000003.pt")
    assert snapshot["step"] == 3 and "optimizer" not in snapshot
    sheet = cv2.imread(str(run / "samples/latest.png"))
    # 2 held-out images (24 // 10) in rows; input, background, reconstruction, overlay, 2 slots.
    assert sheet.shape == (2 * 14 + 2 * 128 + 3 * 2, 6 * 128 + 7 * 2, 3)
    assert len(list((run / "samples").glob("step_*.png"))) == 6  # one per step at this rate
    events = EventAccumulator(str(run)).Reload()
    tags = set(events.Tags()["scalars"])
    assert {
        "loss/background",
        "loss/reconstruction",
        "loss/pixel_entropy",
        "loss/total",
        "lr",
        "weight/pixel_entropy_weight",
        "train/active_slots",
        "train/grad_norm",
        "val/ari_fg",
        "val/miou_fg",
        "val/mse",
    } <= tags
    assert [e.step for e in events.Scalars("loss/reconstruction")] == [2, 3, 4, 5]
    assert len(events.Scalars("lr")) == 6
    assert events.Scalars("lr")[0].value == pytest.approx(config.train.background_lr)
    assert torch.tensor([e.value for e in events.Scalars("train/active_slots")]).le(2).all()
