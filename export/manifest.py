"""Building `astseg.json` from a checkpoint: the export side of sdk.bundle.manifest.

The manifest's shape and constants are the runtime's (`sdk.bundle.manifest.Manifest`);
this module only gathers what export knows (the model config, the trained background
activation, checksums, versions, the checkpoint's progress) into one, and writes it.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import platform
from pathlib import Path
from typing import Any

from export.spec import BatchPlan
from sdk.bundle.bundle import sha256_file
from sdk.bundle.manifest import (
    FORMAT_VERSION,
    BackgroundSpec,
    EngineSpec,
    FileSpec,
    ForegroundRule,
    Manifest,
    ModelSpec,
)
from sdk.outputs.atomic import write_bytes_atomic
from training.config import ModelConfig

# Checkpoint keys worth carrying into the manifest's `training` section, when present.
_TRAINING_KEYS = ("step", "steps", "phase", "scenario", "command", "git_revision", "data")
_STATE_KEYS = ("plan_kind", "images_seen", "skipped_steps", "best_score", "best_step")


def file_entries(root: Path, names: list[str]) -> dict[str, FileSpec]:
    return {
        name: FileSpec(sha256=sha256_file(root / name), bytes=(root / name).stat().st_size)
        for name in sorted(names)
    }


def package_version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def exporter_versions(extra: dict[str, str] | None = None) -> dict[str, Any]:
    """The software that wrote the bundle (a runtime may print it in an error)."""
    versions: dict[str, Any] = {"exporter": "torch.onnx TorchScript (dynamo=False)"}
    for package in ("astseg", "torch", "onnx", "onnxruntime", "transformers"):
        found = package_version(package)
        if found is not None:
            versions[package] = found
    versions["python"] = platform.python_version()
    versions.update(extra or {})
    return versions


_DROP = object()


def plain_json(value: Any) -> Any:
    """Numbers, strings, None, lists and dicts only; 0-d tensors become numbers.

    Anything else (and NaN or infinity) is left out of dicts and becomes None in lists.
    """
    result = _plain(value)
    return None if result is _DROP else result


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _DROP
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return _plain(value.item())
    if isinstance(value, dict):
        items = ((str(k), _plain(v)) for k, v in value.items())
        return {k: v for k, v in items if v is not _DROP}
    if isinstance(value, list | tuple):
        return [None if (v := _plain(item)) is _DROP else v for item in value]
    return _DROP


def _validation(data: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint's metrics: explicit `metrics`, or its latest validation record."""
    for candidate in (data.get("metrics"), data.get("validation")):
        if isinstance(candidate, dict):
            return candidate
    state = data.get("state")
    records = state.get("validations") if isinstance(state, dict) else None
    if isinstance(records, list) and records and isinstance(records[-1], dict):
        return records[-1]
    return {}


def training_info(data: dict[str, Any], checkpoint: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metrics, training) from what the checkpoint carries; `metrics` may be empty."""
    metrics = plain_json(_validation(data)) or {}
    if "step" in metrics:
        metrics["validation_step"] = metrics.pop("step")
    training = {k: plain_json(data[k]) for k in _TRAINING_KEYS if k in data}
    state = data.get("state")
    if isinstance(state, dict):
        training.update({k: plain_json(state[k]) for k in _STATE_KEYS if k in state})
    training = {k: v for k, v in training.items() if v is not None}
    training["checkpoint"] = checkpoint.name
    return metrics, training


def model_section(config: ModelConfig, log_background_activation: float) -> ModelSpec:
    """The model fields the runtime reads, plus the full config for reproducibility."""
    return ModelSpec(
        image_height=config.image_height,
        image_width=config.image_width,
        num_slots=config.num_slots,
        z_what_dim=config.z_what_dim,
        scaling=config.scaling,
        s_min=config.s_min,
        s_max=config.s_max,
        # The trained α_0 (log), not the initial value of the config.
        log_background_activation=log_background_activation,
        # Applied inside the graphs: x / 255, then (x - mean) / std. A runtime only resizes.
        normalisation={
            "in_graph": True,
            "scale": 1 / 255,
            "mean": list(config.input_mean),
            "std": list(config.input_std),
        },
        config=plain_json(dict(vars(config))),
    )


def background_section(config: ModelConfig) -> BackgroundSpec:
    """The manifest's `background` (fixed-camera mode): the graph, the frame size it takes
    (frames are area-resized to it) and the foreground rule's parameters (keys the runtime
    does not know are left out, as it would ignore them)."""
    height, width = config.background_size
    known = ForegroundRule.__dataclass_fields__
    rule = {key: value for key, value in config.foreground_rule.items() if key in known}
    return BackgroundSpec(
        graph="background.onnx",
        image_height=height,
        image_width=width,
        rule=ForegroundRule(**rule),
    )


def build_manifest(
    *,
    model: ModelSpec,
    batch: BatchPlan,
    graphs: dict[str, str],
    engines: dict[str, EngineSpec],
    files: dict[str, FileSpec],
    opset: int,
    exporter: dict[str, Any],
    parity: dict[str, Any],
    metrics: dict[str, Any],
    training: dict[str, Any],
    background: BackgroundSpec | None = None,
) -> Manifest:
    return Manifest(
        format_version=FORMAT_VERSION,
        model=model,
        batch=batch,
        graphs=graphs,
        engines=engines,
        files=files,
        opset=opset,
        metrics=metrics,
        training=training,
        exporter=exporter,
        background=background,
        parity=parity,
    )


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Written whole or not at all, and on disk before the rename."""
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"), suffix=".tmp", durable=True)
