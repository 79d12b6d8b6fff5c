"""Resolving a run's config from a preset, a YAML file and `--set key=value` overrides.

Shared by `astseg train` and the torchrun entry point so both read options the same way.
Every error is a `ConfigError` naming the key (or the file) at fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from training.config import Config, ConfigError
from training.presets import preset_config
from training.trainer.errors import TrainingError


def parse_set_value(text: str) -> Any:
    """A `--set` value as a YAML scalar; `1e-3` is a number (PyYAML 1.1 would read a string)."""
    value = yaml.safe_load(text) if text.strip() else ""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def parse_set_options(items: list[str]) -> dict[str, Any]:
    """`["train.lr=2e-4", ...]` -> `{"train.lr": 0.0002}`."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(item, "must be written key=value, e.g. train.lr=2e-4")
        try:
            overrides[key] = parse_set_value(text)
        except yaml.YAMLError:
            raise ConfigError(key, f"value {text!r} is not valid YAML") from None
    return overrides


def flatten(section: str, data: Any, file: str) -> dict[str, Any]:
    """A YAML config tree -> dotted overrides (`{"train": {"lr": 1}}` -> `{"train.lr": 1}`)."""
    if not isinstance(data, dict):
        what = f"section '{section}'" if section else "the top level"
        raise TrainingError(
            f"config file '{file}': {what} must be a mapping, got {type(data).__name__}"
        )
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{section}.{key}" if section else str(key)
        if not section and key not in ("model", "train"):
            raise ConfigError(dotted, f"is not a config section (in {file}); use model or train")
        if not section:
            out.update(flatten(dotted, value, file))
        else:
            out[dotted] = value
    return out


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The dotted overrides a YAML file holds (a whole saved `config.yaml` or any part of one)."""
    path = Path(path)
    if path.is_dir():
        raise TrainingError(
            f"config file '{path}' is a folder; give a YAML file, e.g. a run's config.yaml"
        )
    if not path.exists():
        raise TrainingError(f"config file '{path}' does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise TrainingError(f"config file '{path}' cannot be read ({err.strerror})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        first = str(err).splitlines()[0]
        raise TrainingError(f"config file '{path}' is not valid YAML ({first})") from None
    return flatten("", data or {}, str(path))


def _states_relight(overrides: dict[str, Any]) -> bool:
    """Whether the overrides set the rule's light matching (as a key or in a whole rule)."""
    rule = overrides.get("model.foreground_rule")
    return "model.foreground_rule.relight" in overrides or (
        isinstance(rule, dict) and "relight" in rule
    )


def resolve_config(
    preset: str | None = None,
    config_file: str | Path | None = None,
    sets: list[str] | None = None,
    scenario: str | None = None,
    slots: int | None = None,
    size: str | None = None,
) -> Config:
    """Paper defaults <- preset <- YAML file <- `--set` items <- `--scenario`, `--slots`,
    `--size` (the slot model's input, H or HxW; it turns `slot_size_from_data` off). A stated
    K (`--slots`, or `model.num_slots` in the file or a `--set`) turns `slots_from_data` off,
    and a stated `model.foreground_rule.relight` turns `light_from_data` off."""
    try:
        config = preset_config(preset)
    except ValueError as err:
        if isinstance(err, ConfigError):
            raise
        raise TrainingError(str(err)) from None
    overrides: dict[str, Any] = {}
    if config_file is not None:
        overrides.update(read_config_file(config_file))
    stated = parse_set_options(sets or [])
    if _states_relight(overrides):  # a light matching the file states is kept ...
        overrides.setdefault("model.light_from_data", False)
    overrides.update(stated)
    if "model.num_slots" in overrides:  # a K the user states is kept
        overrides.setdefault("model.slots_from_data", False)
    if _states_relight(stated) and "model.light_from_data" not in stated:
        overrides["model.light_from_data"] = False  # ... and one a --set states, over the file
    if scenario is not None:
        overrides["train.scenario"] = scenario
    if slots is not None:
        overrides["model.num_slots"] = slots
        overrides["model.slots_from_data"] = False
    if size is not None:
        height, width = parse_slot_size(size)
        overrides.update(
            {
                "model.image_height": height,
                "model.image_width": width,
                "model.slot_size_from_data": False,
            }
        )
    return config.with_overrides(overrides) if overrides else config


def parse_slot_size(text: str) -> tuple[int, int]:
    """`--size`: '64' or '48x64' (H x W) -> (H, W)."""
    parts = text.strip().lower().replace("×", "x").split("x")
    try:
        height, width = int(parts[0]), int(parts[-1])
    except ValueError:
        height = width = 0
    if len(parts) not in (1, 2) or height < 1 or width < 1:
        raise ConfigError("--size", f"must be H or HxW in pixels, e.g. 64 or 48x64; got {text!r}")
    return height, width


def config_yaml(config: Config) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False, default_flow_style=None)
