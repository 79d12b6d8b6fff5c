"""Short real footage (issue 20): 101 frames of a fixed camera in CDnet's layout train end to
end on a tiny model, with the median prior, the measured noise map and the fit report; a
time limit leaves phase 1 its share only; a scene the model cannot explain is said in one
line."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from export.bundle import ExportOptions, export_bundle
from sdk import Segmenter
from sdk.fixed_camera.fit_monitor import FitMonitor
from tests.cdnet_camera import write_cdnet_camera
from tests.training.trainer.trainer_fixtures import tiny_config
from training.checkpoint import load_checkpoint
from training.model.background import BackgroundModel
from training.trainer import background_fit
from training.trainer.loop import train
from training.trainer.reporting import ProgressBar


def test_101_frames_train_export_and_run_end_to_end(tmp_path: Path) -> None:
    sequence = write_cdnet_camera(tmp_path / "cam")
    lines: list[str] = []
    config = tiny_config(scenario="frozen_background", background_steps=3, steps=3)
    assert config.model.background_prior and config.model.background_noise == "measured"
    result = train(config, f"cdnet:{sequence}", tmp_path / "run", progress=False, echo=lines.append)
    assert result.status == "completed"
    said = "\n".join(lines)
    assert "short footage: 101 frames" in said
    assert "background prior: the median of 101 frames" in said
    assert "background fit: a median" in said and "warning" not in said
    state = load_checkpoint(result.checkpoint)["model"]
    prior = torch.sigmoid(state["background.prior_logits"][0]) * 255
    assert state["background.noise_map"].max() > 0  # measured, not the zeros it starts as
    # The square never stays: the prior is the empty scene to within JPEG's few levels
    frame = cv2.imread(str(sequence / "input" / "in000001.jpg"))[..., ::-1].astype(np.float32)
    empty = frame.copy()
    empty[18:30] = prior.permute(1, 2, 0).numpy()[18:30]  # rows the square uses, from the prior
    assert np.abs(prior.permute(1, 2, 0).numpy() - empty).mean() < 8.0
    export_bundle(result.run_dir, tmp_path / "bundle", ExportOptions(batch=1), log=lambda _: None)
    # one frame on its own: no stream, so no confirmation over frames (track=False)
    with Segmenter(tmp_path / "bundle", masks_from="background", track=False) as seg:
        found = seg(cv2.imread(str(sequence / "input" / "in000050.jpg")))  # BGR, as OpenCV reads
    truth = cv2.imread(str(sequence / "groundtruth" / "gt000050.png"), 0) > 0
    assert found.foreground is not None
    hits = (found.foreground > 0) & truth
    assert hits.sum() > 0.8 * truth.sum()  # the square is found ...
    assert (found.foreground > 0).sum() < 2 * truth.sum()  # ... and little else


def test_a_time_limit_leaves_phase_1_its_share_and_the_slots_the_rest(tmp_path: Path) -> None:
    sequence = write_cdnet_camera(tmp_path / "cam")
    lines: list[str] = []
    config = tiny_config(
        scenario="frozen_background", background_steps=1_000_000, steps=1_000_000,
        time_limit_minutes=0.1,
    )  # fmt: skip
    result = train(config, f"cdnet:{sequence}", tmp_path / "run", progress=False, echo=lines.append)
    assert result.status == "time_limit"
    said = "\n".join(lines)
    assert "phase 1 ends at step" in said and "background fit" in said
    state = load_checkpoint(result.checkpoint)["state"]
    assert 0 < state["background_steps"] < result.step  # slot steps ran after phase 1


def test_a_scene_the_background_cannot_explain_is_said_in_one_line() -> None:
    torch.manual_seed(0)
    model = BackgroundModel(24, 32, static_prior=True, measured_noise=True)  # grey, untrained
    rng = np.random.default_rng(0)
    frames = torch.from_numpy(rng.uniform(0, 1, (8, 3, 24, 32)).astype(np.float32))
    rule = {"alpha1": 0.3, "alpha2": 3.0, "close": 3, "open": 3, "relight": 0}
    lines: list[str] = []
    warned = background_fit.report_background_fit(lines.append, model, frames, rule, None)
    assert warned and len(lines) == 1
    assert lines[0].startswith("warning: the background model does not explain this camera")
    assert "--time-limit" in lines[0]


def test_astseg_run_says_once_when_the_foreground_is_mostly_failure() -> None:
    monitor = FitMonitor(window=10)
    quiet = np.zeros((20, 20), np.uint8)
    quiet[:4, :4] = 1  # 4 % of the frame: objects
    assert all(monitor.update(quiet) is None for _ in range(30))
    loud = np.ones((20, 20), np.uint8)
    loud[:5] = 0  # 75 % of the frame
    said = [monitor.update(loud) for _ in range(30)]
    warnings = [line for line in said if line is not None]
    assert len(warnings) == 1  # once, when the last 10 frames' median passes 20 %
    # the 5th loud frame makes half the window: the median (mean of the two middle shares,
    # 4 % and 75 %) is 40 %
    assert said.index(warnings[0]) == 4
    assert warnings[0].startswith("warning: the background model does not explain this camera")
    assert "40 %" in warnings[0] and "--masks-from slots" in warnings[0]


def test_the_progress_total_follows_a_time_limit(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = [1000.0]
    monkeypatch.setattr("training.trainer.reporting.time.monotonic", lambda: clock[0])
    bar = ProgressBar(total=11_300, initial=0, enabled=True, deadline=1000.0 + 900)
    for _ in range(100):  # 100 steps in 100 s: 1 step/s, 800 s left
        clock[0] += 1.0
        bar.advance({})
    # the step reached when the limit ends: ~1 step/s for the 800 s left (the pace is read
    # before each step counts, so it is 99 steps in 100 s: 891)
    assert 880 <= bar._bar.total <= 900
    clock[0] = 1000.0 + 2000  # past the limit the total is the next step
    bar.advance({})
    assert bar._bar.total == bar._bar.n


def test_a_run_resumed_without_its_noise_map_measures_it(tmp_path: Path) -> None:
    """Killed after phase 1's last step but before the map was measured and saved."""
    sequence = write_cdnet_camera(tmp_path / "cam")
    config = tiny_config(scenario="frozen_background", background_steps=2, steps=2)
    result = train(config, f"cdnet:{sequence}", tmp_path / "run", progress=False, echo=print)
    payload = torch.load(result.checkpoint, map_location="cpu", weights_only=False)
    measured = payload["model"]["background.noise_map"].clone()
    payload["model"]["background.noise_map"].zero_()
    payload["step"] = payload["state"]["step"] = 2  # just past phase 1
    torch.save(payload, result.checkpoint)
    lines: list[str] = []
    train(None, None, tmp_path / "run", resume=True, progress=False, echo=lines.append)
    state = load_checkpoint(result.checkpoint)["model"]
    assert any(line.startswith("background fit") for line in lines)
    assert torch.allclose(state["background.noise_map"], measured)  # the same frames, same map


def test_a_noise_map_too_high_to_find_objects_is_a_warning() -> None:
    """The run of docs/cpu-recipe.md §11.4: 0 % foreground, but only because the rule, at
    α₂ 3 and a median noise of 32.5 grey levels, needs ~98 levels per channel."""
    nothing = np.zeros(200)
    line, warned = background_fit.describe_fit(nothing, np.full(50, 32.5), alpha2=3.0)
    assert warned and line.startswith("background fit: a median 0.0 %")
    assert "about 98 grey levels per channel" in line and "relight=1" in line
    line, warned = background_fit.describe_fit(nothing, np.full(50, 5.0), alpha2=3.0)
    assert not warned and "warning" not in line  # 15 levels: a fitted background
    limit = background_fit.BLIND_AT / 3.0
    assert not background_fit.describe_fit(nothing, np.full(50, limit), alpha2=3.0)[1]
    assert background_fit.describe_fit(nothing, np.full(50, limit + 0.1), alpha2=3.0)[1]
