from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from training.config import Config, ConfigError, ModelConfig
from training.model import ASTSeg
from training.presets import preset_config, preset_names


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"model.num_slots": 0}, "model.num_slots"),
        ({"model.s_min": 24.0}, "model.s_min"),
        ({"model.s_min": 30.0}, "model.s_min"),
        ({"model.image_height": 31}, "model.image_height"),
        ({"model.image_width": 16}, "model.image_width"),
        ({"model.scaling": "diagonal"}, "model.scaling"),
        ({"model.num_slots": "ten"}, "model.num_slots"),
        ({"model.use_transformer": 1}, "model.use_transformer"),
        ({"train.lr": -1.0}, "train.lr"),
        ({"train.frozen_background_steps": 10**9}, "train.frozen_background_steps"),
        ({"model.colour": 3}, "model.colour"),
        ({"train.pixel_entropy_late_weight": -0.01}, "train.pixel_entropy_late_weight"),
        ({"train.pixel_entropy_late_weight": float("nan")}, "train.pixel_entropy_late_weight"),
        ({"train.pixel_entropy_late_from": 5000}, "train.pixel_entropy_late_from"),
        (
            {"train.pixel_entropy_late_weight": 0.01, "train.pixel_entropy_late_from": -1},
            "train.pixel_entropy_late_from",
        ),
        ({"nonsense.key": 3}, "nonsense"),
    ],
)
def test_bad_values_name_the_field(overrides, field):
    with pytest.raises(ConfigError) as err:
        Config().with_overrides(overrides)
    assert err.value.field == field
    assert field in str(err.value)


@pytest.mark.parametrize(
    ("dotted", "nearest"),
    [
        ("train.lrr", "train.lr"),
        ("model.num_slot", "model.num_slots"),
        ("trian.lr", "train"),
        ("model.foreground_rule.alpah1", "model.foreground_rule.alpha1"),
    ],
)
def test_an_unknown_key_answers_with_the_nearest_known_one(dotted, nearest):
    with pytest.raises(ConfigError, match=rf"; did you mean '{nearest}'\?$"):
        Config().with_overrides({dotted: 1})


def test_set_with_an_unknown_key_is_one_sentence_naming_the_nearest_key(tmp_path: Path):
    run = tmp_path / "run"
    args = ["train", "--preset", "cpu", "--data", "synthetic:size=32", "--out", str(run)]
    result = CliRunner().invoke(app, [*args, "--set", "train.batch_sise=8"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "astseg: error: config field 'train.batch_sise': is not a known config key; "
        "did you mean 'train.batch_size'?"
    )
    assert not run.exists()


def test_unknown_key_in_a_file_section_is_named():
    with pytest.raises(ConfigError, match="model.slots"):
        Config.from_dict({"model": {"slots": 3}})


def test_model_constructor_validates_too():
    with pytest.raises(ConfigError, match="model.num_slots"):
        ASTSeg(ModelConfig(num_slots=0))


def test_defaults_are_the_papers_table_6():
    cfg = Config()
    assert (cfg.train.batch_size, cfg.train.lr, cfg.train.steps) == (64, 4e-5, 125_000)
    assert cfg.train.adam_betas == (0.9, 0.98) and cfg.train.adam_eps == 1e-9
    assert (cfg.train.lr_warmup_steps, cfg.train.pixel_entropy_warmup_steps) == (5_000, 10_000)
    assert cfg.train.pixel_entropy_weight == 1e-2 and cfg.train.frozen_background_steps == 30_000
    assert (cfg.train.background_batch_size, cfg.train.background_lr) == (128, 2e-3)
    m = cfg.model
    assert (m.z_what_dim, m.s_min, m.s_max, m.log_background_activation) == (32, 1.3, 24.0, 11.0)
    assert (m.transformer_dim, m.transformer_heads, m.transformer_ff_dim) == (256, 8, 512)
    assert m.transformer_layers == 6 and m.backbone == "nvidia/mit-b3"


def test_round_trip_through_a_dict_is_lossless():
    cfg = preset_config("cpu")
    assert Config.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_is_valid(name):
    preset_config(name)


def test_unknown_preset_lists_the_choices():
    with pytest.raises(ValueError, match="clevrtex"):
        preset_config("imagenet")


def test_cpu_preset_carries_the_cpu_recipe():
    train, model = preset_config("cpu").train, preset_config("cpu").model
    assert (model.s_max, model.slot_activation_init) == (8.0, 11.0)
    assert train.scenario == "frozen_background" and train.steps == 11_000
    assert (train.lr, train.lr_warmup_steps, train.background_steps) == (4e-4, 250, 300)
    assert (train.coverage_weight, train.coverage_steps) == (1.0, 3_000)
    assert (train.pixel_entropy_weight, train.pixel_entropy_warmup_steps) == (0.1, 1_000)


def test_phase_2_length_is_checked_only_where_the_scenario_has_a_phase_2():
    shorter = preset_config("cpu").with_overrides({"train.steps": 500})  # frozen scenario
    assert shorter.train.steps == 500
    with pytest.raises(ConfigError, match="train.frozen_background_steps"):
        shorter.with_overrides({"train.scenario": "curriculum"})
