"""Fixed-camera mode, training half: the background model's own input size, from the data."""

from __future__ import annotations

import contextlib

import pytest
import torch

from tests.training.trainer.trainer_fixtures import tiny_config
from training import objective
from training.checkpoint import load_checkpoint, load_model, save_checkpoint
from training.config import Config, ConfigError
from training.data.synthetic import SceneConfig, SyntheticScenes
from training.data.torch_dataset import TorchSampleDataset
from training.input_sizes import auto_background_size, resolve_input_sizes, slot_size_like
from training.model import ASTSeg
from training.model.astseg import to_size
from training.presets import PRESETS, preset_config
from training.relight import match_illumination
from training.trainer.background_statistics import align_backgrounds
from training.trainer.frozen_background import FrozenBackgrounds
from training.trainer.loop import train
from training.trainer.options import resolve_config

WIDE = (40, 72)  # a non-square frame, H x W


def wide_scenes(count: int = 12) -> SyntheticScenes:
    return SyntheticScenes(SceneConfig(height=WIDE[0], width=WIDE[1], max_objects=2), count)


def test_auto_size_caps_the_long_side_keeps_the_aspect_and_never_enlarges() -> None:
    assert auto_background_size((480, 640), 320) == (240, 320)
    assert auto_background_size((240, 320), 320) == (240, 320)
    assert auto_background_size((1080, 1920), 320) == (180, 320)
    assert auto_background_size((64, 64), 320) == (64, 64)
    assert auto_background_size((100, 20), 50) == (50, 10)
    assert slot_size_like((240, 320), 64) == (48, 64)
    assert slot_size_like((64, 64), 64) == (64, 64)
    assert slot_size_like((100, 1000), 64) == (32, 64)  # never below 32


def test_presets_resolve_their_sizes_from_the_data() -> None:
    cpu = resolve_input_sizes(preset_config("cpu"), (480, 640))
    assert (cpu.model.image_height, cpu.model.image_width) == (48, 64)
    assert cpu.model.background_size == (240, 320) and not cpu.model.slot_size_from_data
    video = resolve_input_sizes(preset_config("video"), (240, 320))
    assert (video.model.image_height, video.model.image_width) == (168, 224)
    assert video.model.background_size == (240, 320)
    # The paper presets keep their input size; their readers deliver frames at that size,
    # so the background model is at the image size, as in the paper.
    for name in ("clevr", "clevrtex", "shapestacks", "objects_room"):
        config = preset_config(name)
        side = config.model.image_height
        resolved = resolve_input_sizes(config, (side, side))
        assert resolved.model.background_size == (side, side)
        assert resolved.model.image_height == side
    assert set(PRESETS) >= {"cpu", "video", "clevr"}
    # A stated size is kept whatever the data.
    stated = preset_config("cpu").with_overrides(
        {"model.background_height": 60, "model.background_width": 80}
    )
    assert resolve_input_sizes(stated, (480, 640)).model.background_size == (60, 80)


def test_half_stated_or_tiny_background_sizes_are_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match="model.background_height.*both 0"):
        Config().with_overrides({"model.background_height": 100})
    with pytest.raises(ConfigError, match="model.background_width.*at least 8"):
        Config().with_overrides({"model.background_height": 100, "model.background_width": 4})
    with pytest.raises(ConfigError, match="model.foreground_rule.alpha1.*must be a number"):
        Config().with_overrides({"model.foreground_rule": {"alpha1": "high"}})


def test_slots_and_size_options_override_the_preset() -> None:
    config = resolve_config("cpu", slots=12, size="48x80")
    assert config.model.num_slots == 12
    assert (config.model.image_height, config.model.image_width) == (48, 80)
    assert not config.model.slot_size_from_data  # --size is what the user asked for
    assert resolve_input_sizes(config, (480, 640)).model.image_width == 80
    assert resolve_config("cpu").model.num_slots == 4  # the preset's K by default
    with pytest.raises(ConfigError, match="--size.*H or HxW"):
        resolve_config("cpu", size="big")


def test_the_data_delivers_both_sizes_from_the_same_frame() -> None:
    items = TorchSampleDataset(wide_scenes(), size=(32, 32), background_size=WIDE, with_index=True)
    item = items[3]
    assert item["image"].shape == (3, 32, 32)
    assert item["background_image"].shape == (3, *WIDE)
    assert int(item["index"]) == 3
    full = torch.from_numpy(wide_scenes()[3].image).permute(2, 0, 1).float() / 255
    assert torch.equal(item["background_image"], full)  # the frame's own size: untouched
    # Both views are the same scene: the wide one averaged down is the slot-size one, to
    # within the rounding of two uint8 resizes (cv2 area vs torch area, 1/255 each).
    down = to_size(item["background_image"][None], (32, 32))[0]
    assert float((down - item["image"]).abs().mean()) < 2 / 255


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    """Records (phase, image shape, background shape) of every step."""
    seen: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    real_bg, real_fg = objective.background_step_loss, objective.foreground_step_loss

    def background_step_loss(model, images):
        seen.append(("background", tuple(images.shape), ()))
        return real_bg(model, images)

    def foreground_step_loss(model, images, step, train_cfg, background=None, **kwargs):
        shape = () if background is None else tuple(background.shape)
        seen.append(("foreground", tuple(images.shape), shape))
        return real_fg(model, images, step, train_cfg, background=background, **kwargs)

    monkeypatch.setattr(objective, "background_step_loss", background_step_loss)
    monkeypatch.setattr(objective, "foreground_step_loss", foreground_step_loss)
    return seen


def test_a_non_square_background_model_trains_at_the_frame_size(tmp_path, monkeypatch) -> None:
    seen = _spy(monkeypatch)
    config = tiny_config(background_steps=3, steps=2, scenario="frozen_background")
    torch.manual_seed(0)
    untrained = ASTSeg(resolve_input_sizes(config, WIDE).model).background.state_dict()
    result = train(config, wide_scenes(), tmp_path / "run", progress=False, echo=lambda _: None)
    assert result.status == "completed" and result.step == 5
    # Phase 1 sees the frames at 40x72; the slot phase sees 32x32 images and a 32x32
    # background made by the 40x72 model.
    assert seen[:3] == [("background", (4, 3, *WIDE), ())] * 3
    assert seen[3:] == [("foreground", (4, 3, 32, 32), (4, 3, 32, 32))] * 2
    saved = load_checkpoint(tmp_path / "run")
    model_cfg = saved["config"]["model"]
    assert (model_cfg["background_height"], model_cfg["background_width"]) == WIDE
    assert (model_cfg["image_height"], model_cfg["image_width"]) == (32, 32)
    first = saved["model"]["background.encoder.0.conv.weight"]
    assert not torch.equal(first, untrained["encoder.0.conv.weight"])  # phase 1 trained it
    model, _, _ = load_model(tmp_path / "run")
    frames = torch.rand(2, 3, *WIDE)
    background, noise = model.background(frames)
    assert background.shape == (2, 3, *WIDE) and noise.shape == (2, 1, *WIDE)
    # A joint step takes both sizes too.
    out = model(torch.rand(2, 3, 32, 32), background_images=frames)
    assert out.background.shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match="background model expects"):
        model(torch.rand(2, 3, 32, 32), background_images=torch.rand(2, 3, 32, 32))


def test_a_joint_phase_feeds_the_background_model_its_own_size(tmp_path, monkeypatch) -> None:
    calls: list[tuple[int, ...]] = []
    config = tiny_config(scenario="baseline", steps=2)
    real = ASTSeg.slot_background

    def spy(self, images, background_images=None):
        calls.append(tuple(background_images.shape) if background_images is not None else ())
        return real(self, images, background_images)

    monkeypatch.setattr(ASTSeg, "slot_background", spy)
    train(config, wide_scenes(), tmp_path / "run", progress=False, echo=lambda _: None)
    assert calls == [(4, 3, *WIDE)] * 2


def test_frozen_backgrounds_are_computed_once_per_sample_and_match_the_model() -> None:
    config = resolve_input_sizes(tiny_config(), WIDE)
    torch.manual_seed(0)
    model = ASTSeg(config.model).eval()
    scenes = wide_scenes()
    cache = FrozenBackgrounds(model, scenes, contextlib.nullcontext)
    first = cache.get(torch.tensor([0, 1, 1, 5]), torch.device("cpu"))
    assert first.shape == (4, 3, 32, 32) and cache.computed == 3  # 0, 1 and 5, once each
    again = cache.get(torch.tensor([5, 0]), torch.device("cpu"))
    assert cache.computed == 3 and torch.equal(again, first[[3, 0]])
    frames = torch.stack(
        [torch.from_numpy(scenes[i].image).permute(2, 0, 1).float() / 255 for i in (0, 1, 5)]
    )
    rule = config.model.foreground_rule
    with torch.no_grad():
        own = model.background(frames)[0]
        # moved onto each frame and relit to its light, as the rule says the runtime
        # compares them (training.trainer.background_statistics, training.relight)
        if rule.get("shake", 0):
            own = align_backgrounds(frames, own, float(rule["shake"]))
        if rule.get("relight", 0):
            own = match_illumination(frames, own)
        direct = to_size(own, (32, 32))
    # Kept as uint8: at most half a grey level from the model's own output, as compared.
    assert float((first[[0, 1, 3]] - direct).abs().max()) <= 0.5 / 255 + 1e-6
    small = FrozenBackgrounds(model, scenes, cache.autocast, max_bytes=3 * 32 * 32)
    small.get(torch.tensor([0, 1]), torch.device("cpu"))
    small.get(torch.tensor([0, 1]), torch.device("cpu"))
    assert len(small.cache) == 1 and small.computed == 3  # over the budget: recomputed


def test_old_checkpoints_without_the_keys_build_the_background_at_the_image_size(
    tmp_path,
) -> None:
    config = tiny_config()
    data = config.to_dict()
    for key in ("background_height", "background_width", "background_max_side"):
        del data["model"][key]
    del data["model"]["foreground_rule"], data["model"]["slot_size_from_data"]
    model = ASTSeg(Config.from_dict(data).model)
    save_checkpoint(tmp_path / "old.pt", {"config": data, "model": model.state_dict()})
    loaded, loaded_cfg, _ = load_model(tmp_path / "old.pt")
    assert loaded_cfg.model.background_size == (32, 32)
    assert loaded.background.encoder[0].pos.shape[-2:] == (32, 32)
    out = loaded(torch.rand(1, 3, 32, 32))
    assert out.background.shape == (1, 3, 32, 32)


def test_a_two_size_run_resumed_mid_phase_matches_an_uninterrupted_one(tmp_path) -> None:
    """The frozen-background cache starts cold after a resume; the losses must not notice."""
    spec = "synthetic:size=40x72,objects=2,count=12"
    config = tiny_config(steps=4, frozen_background_steps=2, checkpoint_every=3)

    def run(out, records, **kwargs):
        return train(
            kwargs.pop("config", config),
            kwargs.pop("data", spec),
            out,
            on_step=records.append,
            progress=False,
            echo=lambda _: None,
            **kwargs,
        )

    straight: list = []
    run(tmp_path / "straight", straight)
    pieces: list = []
    assert run(tmp_path / "pieces", pieces, pause_at_step=3).step == 3  # inside phase 2
    saved = load_checkpoint(tmp_path / "pieces")
    assert saved["data_spec"] == spec and saved["config"]["model"]["background_width"] == 72
    done = run(tmp_path / "pieces", pieces, resume=True, config=None, data=None)
    assert done.completed and [r.step for r in pieces] == [r.step for r in straight]
    assert [r.phase for r in straight] == ["background"] * 2 + ["frozen"] * 2 + ["joint"] * 2
    for a, b in zip(straight, pieces, strict=True):
        for name in a.losses:
            assert abs(a.losses[name] - b.losses[name]) <= 1e-6, (a.step, name)


def test_slots_and_size_reach_the_torchrun_ranks_and_are_refused_on_resume() -> None:
    from training.trainer.command import TrainCommand
    from training.trainer.errors import TrainingError
    from training.trainer.launch import parse

    command = TrainCommand(data="synthetic:size=32", preset="cpu", out="r", slots=7, size="48x64")
    rebuilt = parse(command.to_argv())
    assert (rebuilt.slots, rebuilt.size) == (7, "48x64")
    config = rebuilt.config()
    assert config is not None and config.model.num_slots == 7
    assert (config.model.image_height, config.model.image_width) == (48, 64)
    with pytest.raises(TrainingError, match="--slots cannot be given"):
        TrainCommand(out="r", resume=True, slots=7).config()
