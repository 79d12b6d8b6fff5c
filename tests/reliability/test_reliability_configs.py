"""Matrix rows: unknown keys, wrong types and out-of-range values, in YAML and in --set.

`resolve_config` itself is unit-tested in tests/training/trainer/test_options.py; these rows run
the command and check that the message names the key and that no run folder appears.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_cli import assert_user_error, astseg
from trainer_fixtures import DATA_SPEC

BAD_VALUES = [
    # (section, key, YAML value, what the message says)
    ("train", "learning_rate", "0.001", "is not a known config key"),
    ("model", "num_slots", "three", "must be an integer, got 'three'"),
    ("train", "lr", "[0.1, 0.2]", "must be a number"),
    ("model", "use_transformer", "1", "must be true or false, got 1"),
    ("train", "steps", "0", "must be at least 1, got 0"),
    ("train", "lr_decay_fraction", "1.5", "must be in (0, 1], got 1.5"),
    ("model", "image_height", "8", "must be at least 32 pixels, got 8"),
    ("model", "scaling", "diagonal", "must be one of 'isotropic', 'anisotropic'"),
]


@pytest.mark.parametrize(("section", "key", "value", "message"), BAD_VALUES)
@pytest.mark.parametrize("where", ["yaml", "--set"])
def test_a_bad_config_value_names_its_key_and_starts_nothing(
    where: str, section: str, key: str, value: str, message: str, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    args = ["train", "--preset", "cpu", "--data", DATA_SPEC, "--out", str(run)]
    if where == "yaml":
        config = tmp_path / "config.yaml"
        config.write_text(f"{section}:\n  {key}: {value}\n")
        args += ["--config", str(config)]
    else:
        args += ["--set", f"{section}.{key}={value}"]
    line = assert_user_error(astseg(*args), f"config field '{section}.{key}'", message)
    assert len(line) < 160  # one short sentence, not a dump of the config
    assert not run.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train: [1, 2]\n", "section 'train' must be a mapping, got list"),
        ("optimizer:\n  lr: 1\n", "config field 'optimizer': is not a config section"),
        ("train:\n  lr: 1\n   steps: 2\n", "is not valid YAML"),
        ("just words\n", "the top level must be a mapping, got str"),
    ],
)
def test_a_malformed_config_file_is_named(text: str, message: str, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(text)
    run = tmp_path / "run"
    outcome = astseg(
        "train", "--preset", "cpu", "--config", config, "--data", DATA_SPEC, "--out", run
    )
    assert_user_error(outcome, message)
    assert not run.exists()
