"""Light matching decided from the footage (`model.light_from_data`): kept where it removes
most of the residual (a switched lamp the background did not learn), off on steady light,
carried by the saved config, and never overriding a stated choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from tests.cdnet_camera import write_cdnet_camera
from tests.training.trainer.trainer_fixtures import tiny_config
from training.checkpoint import load_checkpoint
from training.model.background import BackgroundModel
from training.relight import match_illumination as relight_batch
from training.trainer.light_check import choose_light_matching
from training.trainer.loop import train
from training.trainer.options import resolve_config


def _model_drawing(scene: torch.Tensor) -> BackgroundModel:
    """A background model whose output is `scene` for every frame (generator silenced)."""
    model = BackgroundModel(*scene.shape[1:], static_prior=True, measured_noise=True)
    with torch.no_grad():
        last = model.generator[-1].conv
        last.weight.zero_()
        last.bias.zero_()
    model.set_prior(scene)
    return model.eval()


def _scene() -> torch.Tensor:
    rng = np.random.default_rng(3)
    return torch.from_numpy(rng.uniform(0.3, 0.7, (3, 24, 32)).astype(np.float32))


def test_a_switched_lamp_the_background_missed_turns_matching_on() -> None:
    scene = _scene()
    model = _model_drawing(scene)
    gains = torch.tensor([0.5, 1.4] * 6).view(-1, 1, 1, 1)  # lamp off, on, off, ...
    choice = choose_light_matching(model, scene[None] * gains, max_shift=0)
    assert choice.relight
    # without matching the residual is the light change itself: ~ 0.5 x 127 and 0.4 x 127
    assert choice.residual_without > 40
    assert choice.residual_with < 2  # a global gain is what matching undoes
    assert "light matching on" in choice.line(choice.relight)
    assert choice.noise(True) is choice.relit and choice.noise(False) is choice.plain


def test_steady_light_keeps_matching_off_and_the_plain_noise_map() -> None:
    scene = _scene()
    model = _model_drawing(scene)
    rng = np.random.default_rng(4)
    jitter = torch.from_numpy(rng.normal(0, 0.03, (12, 3, 24, 32)).astype(np.float32))
    frames = (scene[None] + jitter).clamp(0, 1)
    choice = choose_light_matching(model, frames, max_shift=0)
    assert not choice.relight
    assert abs(choice.residual_with - choice.residual_without) < 0.5 * choice.residual_without
    with torch.no_grad():
        plain = (frames * 255).round() - model(frames)[0] * 255
    expected = np.median(plain.abs().mean(dim=1).numpy(), axis=0) / 255
    # the map kept is the unmatched one (uint8 rounding of the frames: half a level)
    assert np.abs(choice.noise(False).numpy() - expected).max() <= 0.5 / 255 + 1e-6
    assert "light matching off" in choice.line(choice.relight)


def test_a_near_perfect_fit_keeps_matching_off() -> None:
    """Sub-level differences (uint8 rounding) never decide: matching must gain a grey level."""
    scene = _scene()
    model = _model_drawing(scene)
    choice = choose_light_matching(model, scene[None].repeat(4, 1, 1, 1), max_shift=0)
    assert choice.residual_without < 0.5 and choice.residual_with < 0.5  # rounding only
    assert not choice.relight


def test_a_run_on_a_switched_lamp_saves_its_choice_and_relights_the_slot_phase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sequence = write_cdnet_camera(tmp_path / "cam", lamp_switch=True)
    relit: list[int] = []

    def spy(frames: torch.Tensor, backgrounds: torch.Tensor) -> torch.Tensor:
        relit.append(len(frames))
        return relight_batch(frames, backgrounds)

    monkeypatch.setattr("training.trainer.frozen_background.match_illumination", spy)
    lines: list[str] = []
    config = tiny_config(scenario="frozen_background", background_steps=3, steps=2)
    assert config.model.light_from_data and config.model.foreground_rule["relight"] == 0
    result = train(config, f"cdnet:{sequence}", tmp_path / "run", progress=False, echo=lines.append)
    assert result.status == "completed"
    assert any(line.startswith("light matching on") for line in lines)
    saved = load_checkpoint(result.checkpoint)["config"]["model"]
    assert saved["foreground_rule"]["relight"] == 1 and saved["light_from_data"] is False
    on_disk = yaml.safe_load((result.run_dir / "config.yaml").read_text())["model"]
    assert on_disk["foreground_rule"]["relight"] == 1 and on_disk["light_from_data"] is False
    assert sum(relit) > 0  # the slot phase's frozen backgrounds are relit as the runtime's


def test_a_run_on_steady_light_keeps_matching_off(tmp_path: Path) -> None:
    sequence = write_cdnet_camera(tmp_path / "cam")
    lines: list[str] = []
    config = tiny_config(scenario="frozen_background", background_steps=3, steps=2)
    result = train(config, f"cdnet:{sequence}", tmp_path / "run", progress=False, echo=lines.append)
    assert any(line.startswith("light matching off") for line in lines)
    saved = load_checkpoint(result.checkpoint)["config"]["model"]
    assert saved["foreground_rule"]["relight"] == 0 and saved["light_from_data"] is False


def test_a_stated_light_matching_is_kept(tmp_path: Path) -> None:
    stated = resolve_config("cpu", sets=["model.foreground_rule.relight=1"])
    assert not stated.model.light_from_data and stated.model.foreground_rule["relight"] == 1
    whole = resolve_config("cpu", sets=["model.foreground_rule={relight: 0}"])
    assert not whole.model.light_from_data
    assert resolve_config("cpu").model.light_from_data
    assert not resolve_config(None).model.light_from_data  # the paper's defaults never decide
    # a --set relight wins over a file that leaves the choice to the footage
    undecided = tmp_path / "config.yaml"
    undecided.write_text(yaml.safe_dump({"model": {"light_from_data": True}}))
    over = resolve_config("cpu", undecided, ["model.foreground_rule.relight=1"])
    assert not over.model.light_from_data
    assert resolve_config("cpu", undecided).model.light_from_data


def test_a_background_from_another_run_brings_its_light_choice(tmp_path: Path) -> None:
    """Its noise map was measured with matching on; the slot run must compare the same way."""
    lamp = write_cdnet_camera(tmp_path / "lamp", lamp_switch=True)
    config = tiny_config(scenario="frozen_background", background_steps=3, steps=2)
    train(config, f"cdnet:{lamp}", tmp_path / "bg", background_only=True, progress=False)
    source = tmp_path / "bg" / "checkpoints" / "background.pt"
    assert load_checkpoint(source)["config"]["model"]["foreground_rule"]["relight"] == 1
    lines: list[str] = []
    fresh = tiny_config(scenario="frozen_background", background_steps=3, steps=2)
    result = train(
        fresh, f"cdnet:{lamp}", tmp_path / "fg", background_from=source, progress=False,
        echo=lines.append,
    )  # fmt: skip
    saved = load_checkpoint(result.checkpoint)["config"]["model"]
    assert saved["foreground_rule"]["relight"] == 1 and saved["light_from_data"] is False


def test_a_run_without_phase_1_decides_at_its_start(tmp_path: Path) -> None:
    """No background steps: the choice is made on the prior before the slot steps."""
    lamp = write_cdnet_camera(tmp_path / "lamp", lamp_switch=True)
    lines: list[str] = []
    config = tiny_config(scenario="frozen_background", background_steps=0, steps=2)
    result = train(config, f"cdnet:{lamp}", tmp_path / "run", progress=False, echo=lines.append)
    assert any(line.startswith("light matching") for line in lines)
    assert load_checkpoint(result.checkpoint)["config"]["model"]["light_from_data"] is False
