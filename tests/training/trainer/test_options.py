"""Config resolution: preset <- YAML file <- --set, and one sentence naming the key at fault."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli import app
from training.config import ConfigError
from training.trainer.errors import TrainingError
from training.trainer.options import parse_set_options, parse_set_value, resolve_config


def test_set_values_are_yaml_scalars_and_exponents_are_numbers():
    assert parse_set_value("2e-4") == pytest.approx(2e-4)
    assert parse_set_value("3") == 3 and isinstance(parse_set_value("3"), int)
    assert parse_set_value("true") is True
    assert parse_set_value("null") is None
    assert parse_set_value("[0.9, 0.99]") == [0.9, 0.99]
    assert parse_set_value("baseline") == "baseline"
    assert parse_set_options(["train.lr=1e-3", "model.num_slots=5"]) == {
        "train.lr": pytest.approx(1e-3),
        "model.num_slots": 5,
    }


def test_preset_then_file_then_set_then_scenario(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "model:\n  num_slots: 7\ntrain:\n  lr: 0.001\n  steps: 500\n  frozen_background_steps: 5\n"
    )
    config = resolve_config("cpu", path, ["train.lr=2e-4"], "baseline")
    assert config.model.num_slots == 7  # file over preset (cpu has 4)
    assert config.model.image_height == 64  # preset over paper default (128)
    assert config.train.lr == pytest.approx(2e-4)  # --set over file
    assert config.train.steps == 500
    assert config.train.scenario == "baseline"
    assert config.train.adam_betas == (0.9, 0.98)  # Table 6


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("train:\n  lrr: 1\n", "train.lrr", "not a known config key"),
        ("train:\n  steps: many\n", "train.steps", "must be an integer"),
        ("train:\n  steps: 0\n", "train.steps", "at least 1"),
        ("model:\n  scaling: diagonal\n", "model.scaling", "must be one of"),
        ("train:\n  grad_clip: -1\n", "train.grad_clip", "positive"),
    ],
)
def test_yaml_errors_name_the_key(tmp_path, text, key, fragment):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        resolve_config("cpu", path)
    assert err.value.field == key
    assert fragment in str(err.value)


@pytest.mark.parametrize(
    ("item", "key"),
    [
        ("train.lr=fast", "train.lr"),
        ("train.nope=1", "train.nope"),
        ("nope.lr=1", "nope"),
        ("train.lr", "train.lr"),
        ("train.max_bad_steps=0", "train.max_bad_steps"),
    ],
)
def test_set_errors_name_the_key(item, key):
    with pytest.raises(ConfigError) as err:
        resolve_config("cpu", sets=[item])
    assert err.value.field == key


def test_file_level_errors_name_the_file(tmp_path):
    with pytest.raises(TrainingError, match="does not exist"):
        resolve_config(None, tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [1, 2]\n")
    with pytest.raises(TrainingError, match="section 'train' must be a mapping"):
        resolve_config(None, bad)
    bad.write_text("optimizer:\n  lr: 1\n")
    with pytest.raises(ConfigError, match="use model or train"):
        resolve_config(None, bad)
    with pytest.raises(TrainingError, match="unknown preset 'tiny'"):
        resolve_config("tiny")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "synthetic", "--set", "train.lr=x"], "'train.lr': must be a number"),
        (["--data", "synthetic", "--scenario", "fast"], "'train.scenario': must be one of"),
        (["--preset", "cpu"], "--data is required"),
        (["--resume", "--out", "NOWHERE", "--preset", "cpu"], "--preset cannot be given"),
    ],
)
def test_cli_reports_one_sentence_and_exit_2(args, message):
    result = CliRunner().invoke(app, ["train", *args])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output
    assert "Traceback" not in result.output
