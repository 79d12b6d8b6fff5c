"""Matrix rows: damaged bundles, checkpoints of another model, plans for another GPU.

The loaders' own checks are unit-tested in tests/sdk/test_sdk_bundle.py and
tests/training/test_checkpoint.py; these rows prove what a user sees from the commands.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from reliability_cli import assert_success, assert_user_error, astseg, tree
from toy_bundle import write_manifest
from trainer_fixtures import DATA_SPEC

from training.checkpoint import save_checkpoint
from training.config import Config
from training.model import ASTSeg


def _manifest(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / "astseg.json").read_text())


def _missing_file(bundle: Path) -> None:
    (bundle / "renderer.onnx").unlink()


def _hash_mismatch(bundle: Path) -> None:
    data = bytearray((bundle / "encoder.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte different
    (bundle / "encoder.onnx").write_bytes(bytes(data))


def _unknown_version(bundle: Path) -> None:
    manifest = _manifest(bundle)
    manifest["format_version"] = 7
    (bundle / "astseg.json").write_text(json.dumps(manifest))


def _onnx_cut_in_half(bundle: Path) -> None:
    path = bundle / "encoder.onnx"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _onnx_cut_in_half_manifest_updated(bundle: Path) -> None:
    _onnx_cut_in_half(bundle)
    write_manifest(bundle, _manifest(bundle))  # size and hash now describe the damaged file


BUNDLE_DAMAGE = {
    "missing file": (_missing_file, "is missing renderer.onnx, which its astseg.json lists"),
    "hash mismatch": (_hash_mismatch, "encoder.onnx in bundle"),
    "unknown version": (_unknown_version, "format_version 7, which this astseg runtime does not"),
    "onnx cut in half": (_onnx_cut_in_half, "(truncated or changed)"),
    "onnx cut in half, manifest updated": (
        _onnx_cut_in_half_manifest_updated,
        "encoder.onnx in bundle",
    ),
}
BUNDLE_ADVICE = {
    "missing file": "copy the whole bundle again or re-export it",
    "hash mismatch": "does not match the sha256 in its astseg.json",
    "unknown version": "upgrade astseg or re-export the bundle",
    "onnx cut in half": "copy the whole bundle again or re-export it",
    "onnx cut in half, manifest updated": "cannot be loaded by onnxruntime",
}


@pytest.mark.parametrize("damage", list(BUNDLE_DAMAGE))
def test_run_and_eval_refuse_a_damaged_bundle(
    damage: str, bundle_copy: Path, clip: Path, tmp_path: Path
) -> None:
    spoil, message = BUNDLE_DAMAGE[damage]
    spoil(bundle_copy)
    out = tmp_path / "out"
    outcome = astseg(
        "run", "--video", clip, "--model", bundle_copy, "--out", out / "a.mp4",
        "--json", out / "r.jsonl", "--quiet",
    )  # fmt: skip
    assert_user_error(outcome, message, BUNDLE_ADVICE[damage])
    assert tree(out) == set()
    outcome = astseg(
        "eval", "--model", bundle_copy, "--data", DATA_SPEC, "--json", out / "scores.json"
    )
    assert_user_error(outcome, message, BUNDLE_ADVICE[damage])
    assert tree(out) == set()


# ------------------------------------------------------------------ checkpoints


def _mismatched_checkpoint(path: Path, tiny_config: Any) -> Path:
    """A checkpoint whose config says K = 2 but whose weights come from a K = 3 model."""
    config = Config(model=tiny_config(num_slots=2))
    other = ASTSeg(tiny_config(num_slots=3))
    return save_checkpoint(path, {"config": config.to_dict(), "model": other.state_dict()})


def test_eval_and_export_refuse_a_checkpoint_of_another_model_config(
    tiny_config: Any, tmp_path: Path
) -> None:
    checkpoint = _mismatched_checkpoint(tmp_path / "mixed.pt", tiny_config)
    outcome = astseg("eval", "--model", checkpoint, "--data", DATA_SPEC)
    assert_user_error(outcome, str(checkpoint), "does not match the model its config describes")
    bundle = tmp_path / "bundle"
    outcome = astseg("export", checkpoint, "--out", bundle)
    assert_user_error(outcome, str(checkpoint), "does not match the model its config describes")
    assert tree(tmp_path) == {"mixed.pt"}  # no bundle, no staging folder


def test_resume_and_background_from_refuse_another_model_config(
    finished_run: Path, tiny_config_file: Path, tmp_path: Path
) -> None:
    before = (finished_run / "checkpoints" / "latest.pt").read_bytes()
    outcome = astseg("train", "--resume", "--out", finished_run, "--set", "model.num_slots=3")
    assert_user_error(outcome, "'model.num_slots'", "cannot change when resuming")
    assert (finished_run / "checkpoints" / "latest.pt").read_bytes() == before
    run = tmp_path / "bigger"
    outcome = astseg(
        "train", "--preset", "cpu", "--config", tiny_config_file, "--data", DATA_SPEC,
        "--out", run, "--set", "model.background_height=64", "--set", "model.background_width=64",
        "--background-from", finished_run / "checkpoints" / "background.pt",
    )  # fmt: skip
    assert_user_error(outcome, "was trained at 32x32 but this run's background model is 64x64")
    assert not run.exists()


# ------------------------------------------------------------------ TensorRT plans


class _FakeTensorRt(types.ModuleType):
    """The part of `tensorrt` the backend touches before a plan is deserialised."""

    __version__ = "10.8.0.43"

    def __init__(self) -> None:
        super().__init__("tensorrt")
        self.deserialised: list[bytes] = []
        fake = self

        class Logger:
            WARNING = 2

            def __init__(self, level: int) -> None:
                self.level = level

        class Runtime:
            def __init__(self, logger: Logger) -> None:
                self.logger = logger

            def deserialize_cuda_engine(self, data: bytes) -> None:
                fake.deserialised.append(data)

        self.Logger = Logger
        self.Runtime = Runtime


class _FakeH100:
    """A CUDA runtime on an H100, without a GPU."""

    def __init__(self, device_index: int = 0) -> None:
        self.device_index = device_index

    def device_name_and_capability(self) -> tuple[str, str]:
        return "NVIDIA H100 80GB HBM3", "9.0"


def _plans_for_an_a100(bundle: Path) -> Path:
    sidecar = {
        "tensorrt_version": "10.8.0",
        "gpu_name": "NVIDIA A100-SXM4-40GB",
        "compute_capability": [8, 0],
        "precision": "fp16",
    }
    manifest = _manifest(bundle)
    for graph in ("encoder", "renderer"):
        (bundle / f"{graph}.engine").write_bytes(b"plan bytes built on an A100")
        (bundle / f"{graph}.engine.json").write_text(json.dumps(sidecar))
        manifest["files"][f"{graph}.engine"] = {}
        manifest["files"][f"{graph}.engine.json"] = {}
    manifest["engines"] = {
        g: {"plan": f"{g}.engine", "sidecar": f"{g}.engine.json"} for g in ("encoder", "renderer")
    }
    write_manifest(bundle, manifest)
    return bundle


def test_a_plan_built_for_another_gpu_is_refused_before_it_is_deserialised(
    bundle_copy: Path, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _FakeTensorRt()
    monkeypatch.setitem(sys.modules, "tensorrt", fake)
    monkeypatch.setattr("sdk.backends.tensorrt_plan.CudaRuntime", _FakeH100)
    bundle = _plans_for_an_a100(bundle_copy)
    lines = tmp_path / "r.jsonl"
    outcome = astseg(
        "run", "--video", clip, "--model", bundle, "--backend", "tensorrt", "--device", "cuda",
        "--json", lines,
    )  # fmt: skip
    assert_user_error(
        outcome,
        "encoder.engine was built for TensorRT 10.8.0 on NVIDIA A100-SXM4-40GB (compute 8.0)",
        "this machine has TensorRT 10.8.0.43 on NVIDIA H100 80GB HBM3 (compute 9.0)",
        "rebuild the engine here with `astseg export RUN --out BUNDLE --trt`",
    )
    assert fake.deserialised == [] and not lines.exists()
    # auto: the plans are passed over with the reason, and ONNX Runtime runs the bundle
    outcome = astseg("run", "--video", clip, "--model", bundle, "--json", lines)
    assert_success(outcome)
    assert "not using the bundle's TensorRT plans: encoder.engine was built for" in outcome.stderr
    assert "processed 30 frames" in outcome.stdout and len(lines.read_text().splitlines()) == 30
    assert fake.deserialised == []
