"""Tiny checkpoints and bundles exported once per session, shared by the export tests.

The models are random-init but set up so the parity checks mean something: a low
background activation and wide glimpses (s_max 4) make the slots own most pixels,
so the segmentation maps are far from all-background.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from export.bundle import ExportOptions, ExportResult, export_bundle
from training.checkpoint import save_checkpoint
from training.config import Config, ModelConfig

TINY_SEGFORMER = {
    "hidden_sizes": [8, 16, 24, 32],
    "depths": [1, 1, 1, 1],
    "num_attention_heads": [1, 1, 1, 1],
    "decoder_hidden_size": 32,
}


def tiny_model(**overrides: Any) -> ModelConfig:
    values: dict[str, Any] = {
        "image_height": 48,
        "image_width": 80,
        "num_slots": 3,
        "backbone": None,
        "segformer_overrides": TINY_SEGFORMER,
        "unet_channels": [8, 16, 16],
        "transformer_dim": 32,
        "transformer_heads": 2,
        "transformer_ff_dim": 64,
        "transformer_layers": 2,
        "transformer_dropout": 0.0,
        "z_what_dim": 8,
        "glimpse_size": 16,
        "s_max": 4.0,
        "log_background_activation": -4.0,
    }
    values.update(overrides)
    return ModelConfig(**values)


def write_checkpoint(path: Path, model_config: ModelConfig, seed: int = 0, **extra: Any) -> Path:
    from training.model import ASTSeg

    torch.manual_seed(seed)
    model = ASTSeg(model_config)
    config = Config(model=model_config)
    save_checkpoint(path, {"config": config.to_dict(), "model": model.state_dict(), **extra})
    return path


@dataclass
class Exported:
    checkpoint: Path
    result: ExportResult
    triton: Path | None = None

    @property
    def bundle(self) -> Path:
        return self.result.bundle


@pytest.fixture(scope="session")
def segformer_dynamic(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """Segformer, anisotropic, transformer, 48×80, dynamic batch up to 4, fused, zip, Triton."""
    root = tmp_path_factory.mktemp("segformer")
    checkpoint = write_checkpoint(
        root / "run" / "checkpoints" / "latest.pt",
        tiny_model(),
        step=1234,
        metrics={"ari_fg": torch.tensor(0.75), "miou_fg": 0.5, "bad": float("nan")},
        command="astseg train --preset cpu",
    )
    triton = root / "triton"
    options = ExportOptions(dynamic=True, max_batch=4, fused=True, zip=True, triton=triton)
    result = export_bundle(root / "run", root / "bundle", options, log=lambda _: None)
    return Exported(checkpoint, result, triton)


@pytest.fixture(scope="session")
def unet_fixed(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """U-Net, isotropic, no transformer, 32×48, fixed batch 2, simplified with onnxslim."""
    pytest.importorskip("onnxslim", reason="--simplify needs onnxslim (dev extra)")
    root = tmp_path_factory.mktemp("unet")
    config = tiny_model(
        feature_generator="unet",
        scaling="isotropic",
        use_transformer=False,
        image_height=32,
        image_width=48,
    )
    checkpoint = write_checkpoint(root / "unet.pt", config, seed=1)
    triton = root / "triton"
    options = ExportOptions(batch=2, simplify=True, triton=triton)
    result = export_bundle(checkpoint, root / "bundle", options, log=lambda _: None)
    return Exported(checkpoint, result, triton)


@pytest.fixture(scope="session")
def crop_encoder(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """The issue-22 crop glimpse encoder (a second GridSample, in the encoder graph), with
    competing slots (a LogSoftmax over the K attention maps), centred glimpse windows and the
    duplicate merge:
    Segformer, dynamic batch up to 4, so parity is checked at batch sizes 1 and 3."""
    root = tmp_path_factory.mktemp("crop")
    model = tiny_model(
        glimpse_encoder="crop",
        duplicate_slot_overlap=0.3,
        slot_competition=True,
        glimpse_window=0.8,
    )
    checkpoint = write_checkpoint(root / "crop.pt", model, seed=2)
    triton = root / "triton"
    options = ExportOptions(dynamic=True, max_batch=4, triton=triton)
    result = export_bundle(checkpoint, root / "bundle", options, log=lambda _: None)
    return Exported(checkpoint, result, triton)


@pytest.fixture(params=["segformer_dynamic", "unet_fixed", "crop_encoder"])
def exported(request: pytest.FixtureRequest) -> Exported:
    return request.getfixturevalue(request.param)


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime extracts zips into its cache: keep the tests' out of the user's."""
    monkeypatch.setenv("ASTSEG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
