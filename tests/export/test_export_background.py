"""Fixed-camera mode, export half: background.onnx, its manifest section, parity, TensorRT,
Triton, and which checkpoints get one."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from export.background_parity import BackgroundParity, measure_background_parity
from export.bundle import ExportOptions, export_bundle
from export.gpu_device import GpuInfo
from export.half_weights import MIN_ELEMENTS, round_to_float16_, store_weights_as_float16
from export.onnx_export import export_graph
from export.spec import BatchPlan, background_spec
from export.tensorrt_build import EngineBuilder, TrtOptions
from export.tensorrt_ops import TARGET_VERSIONS, check_tensorrt_support, unsupported_nodes
from sdk.bundle.bundle import load_bundle
from sdk.fixed_camera.foreground import ForegroundRule
from tests.export.conftest import tiny_model, write_checkpoint
from tests.export.test_export_tensorrt_build import _FakeTensorRT
from training.checkpoint import load_model, save_checkpoint
from training.config import FOREGROUND_RULE, Config

BACKGROUND = (36, 52)  # its own size, not the slot model's 32x48


def _config(**overrides: object):
    values: dict[str, object] = {
        "feature_generator": "unet",
        "use_transformer": False,
        "image_height": 32,
        "image_width": 48,
        "background_height": BACKGROUND[0],
        "background_width": BACKGROUND[1],
    }
    return tiny_model(**{**values, **overrides})


@pytest.fixture(scope="module")
def fixed_camera(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("fixed_camera")
    checkpoint = write_checkpoint(
        root / "run.pt",
        _config(),
        seed=1,
        state={"plan_kind": "frozen_background", "background_steps": 3, "step": 5},
    )
    lines: list[str] = []
    options = ExportOptions(dynamic=True, max_batch=4, triton=root / "triton")
    result = export_bundle(checkpoint, root / "bundle", options, log=lines.append)
    return checkpoint, result, root, lines


def test_background_onnx_takes_its_own_size_and_matches_pytorch_at_batch_1_and_3(
    fixed_camera,
) -> None:
    checkpoint, result, _, _ = fixed_camera
    path = result.bundle / "background.onnx"
    graph = onnx.load(str(path))
    dims = [d.dim_param or d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim]
    assert graph.graph.input[0].name == "image" and dims == ["batch", 3, *BACKGROUND]
    assert [o.name for o in graph.graph.output] == ["background", "noise"]
    model, _, _ = load_model(checkpoint)
    round_to_float16_(model.background)  # what the bundle stores (export.half_weights)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    recorded = result.manifest["parity"]["graphs"]["background"]
    rng = np.random.default_rng(5)
    for batch in (1, 3):
        frames = rng.integers(0, 256, size=(batch, 3, *BACKGROUND), dtype=np.uint8)
        got = dict(zip(("background", "noise"), session.run(None, {"image": frames}), strict=True))
        with torch.no_grad():
            want = model.background(torch.from_numpy(frames).float() / 255)
        for name, reference in zip(("background", "noise"), want, strict=True):
            assert got[name].shape == tuple(reference.shape)
            diff = float(np.abs(got[name] - reference.numpy()).max())
            # Random frames, not the export's scenes: the same float32 limit, twice over.
            assert diff <= 2 * recorded["limits"][f"max_abs_{name}"], (name, batch, diff)
    assert result.manifest["parity"]["batch_sizes"] == [1, 3]
    for name in ("background", "noise"):
        assert recorded[f"max_abs_{name}"] <= recorded["limits"][f"max_abs_{name}"]
        # The limit comes from float32's own error on this model, far under 1e-3 here.
        assert 0 < recorded["limits"][f"max_abs_{name}"] < 1e-3


def test_the_manifest_lists_the_graph_with_its_hash_and_the_runtime_reads_it(
    fixed_camera,
) -> None:
    _, result, _, _ = fixed_camera
    manifest = json.loads((result.bundle / "astseg.json").read_text())
    assert manifest["graphs"]["background"] == "background.onnx"
    data = (result.bundle / "background.onnx").read_bytes()
    assert manifest["files"]["background.onnx"] == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
    section = manifest["background"]
    assert section["graph"] == "background.onnx"
    assert (section["image_height"], section["image_width"]) == BACKGROUND
    assert section["foreground_rule"] == FOREGROUND_RULE  # the config's, copied as is
    assert asdict(ForegroundRule()) == FOREGROUND_RULE  # training and runtime defaults agree
    assert (manifest["model"]["image_height"], manifest["model"]["image_width"]) == (32, 48)
    assert load_bundle(result.bundle).manifest.graphs["background"] == "background.onnx"


def test_tensorrt_op_check_and_triton_cover_the_background_graph(fixed_camera) -> None:
    _, result, root, _ = fixed_camera
    graph = onnx.shape_inference.infer_shapes(onnx.load(str(result.bundle / "background.onnx")))
    for version in TARGET_VERSIONS:
        assert unsupported_nodes(graph, version) == []
    check_tensorrt_support(graph, "background.onnx")
    model_dir = root / "triton" / "astseg_background"
    config = (model_dir / "config.pbtxt").read_text()
    assert 'name: "astseg_background"' in config and "max_batch_size: 4" in config
    assert f"dims: [ 3, {BACKGROUND[0]}, {BACKGROUND[1]} ]" in config
    assert f"dims: [ 1, {BACKGROUND[0]}, {BACKGROUND[1]} ]" in config  # noise
    copied = (model_dir / "1" / "model.onnx").read_bytes()
    assert copied == (result.bundle / "background.onnx").read_bytes()


@pytest.mark.parametrize("version", ["10.13.3.9", "11.5.0"])
def test_trt_builds_a_background_engine_at_its_own_size(
    fixed_camera, tmp_path: Path, monkeypatch, version: str
) -> None:
    import export.tensorrt_build as build

    _, result, _, _ = fixed_camera
    monkeypatch.setitem(sys.modules, "tensorrt", _FakeTensorRT(version))
    monkeypatch.setattr(build, "current_gpu", lambda: GpuInfo("NVIDIA L4", "8.9"))
    builder = EngineBuilder(TrtOptions(fp16=True))
    spec = background_spec(_config())
    onnx_path = tmp_path / "background.onnx"
    onnx_path.write_bytes((result.bundle / "background.onnx").read_bytes())
    built = builder.build(onnx_path, spec, BatchPlan.dynamic_up_to(4), tmp_path)
    assert built.plan == "background.engine"
    sidecar = json.loads((tmp_path / built.sidecar).read_text())
    assert sidecar["profiles"] == [
        {"image": {"min": [1, 3, *BACKGROUND], "opt": [1, 3, *BACKGROUND], "max": [4, 3, 36, 52]}}
    ]
    assert sidecar["outputs"] == {"background": "float32", "noise": "float32"}
    # No glimpse placement here: nothing to keep in FP32 on TensorRT 10.
    assert sidecar["fp32_pinned_layers"] == (0 if version.startswith("10") else None)


def test_parity_refuses_a_background_graph_off_by_more_than_float32_explains(
    fixed_camera, tmp_path: Path
) -> None:
    checkpoint, _, _, _ = fixed_camera
    model, config, _ = load_model(checkpoint)
    plan = BatchPlan.dynamic_up_to(4)
    path = tmp_path / "background.onnx"
    frames = torch.from_numpy(np.zeros((2, 3, *BACKGROUND), np.uint8))
    with torch.no_grad():  # a graph of other weights: what a drifted export would be
        model.background.generator[-1].conv.bias.add_(0.05)
    export_graph(model, background_spec(config.model), plan, frames, path)
    model, _, _ = load_model(checkpoint)
    check = measure_background_parity(model, path, plan)
    assert isinstance(check, BackgroundParity) and check.batch_sizes == (1, 3)
    failures = check.failures()
    assert len(failures) == 2 and failures[0].startswith("background background differs by")


def test_checkpoints_without_a_trained_background_export_in_slot_mode(tmp_path: Path) -> None:
    checkpoint = write_checkpoint(
        tmp_path / "baseline.pt", _config(), seed=1, state={"plan_kind": "baseline", "step": 9}
    )
    lines: list[str] = []
    result = export_bundle(checkpoint, tmp_path / "bundle", ExportOptions(batch=1), lines.append)
    assert not (result.bundle / "background.onnx").exists()
    assert "background" not in result.manifest and "background" not in result.manifest["graphs"]
    assert any("no background.onnx" in line and "baseline" in line for line in lines)


def test_an_old_checkpoint_exports_its_background_at_the_image_size(tmp_path: Path) -> None:
    config = Config(model=_config(background_height=0, background_width=0)).to_dict()
    for key in ("background_height", "background_width", "background_max_side"):
        del config["model"][key]
    del config["model"]["foreground_rule"], config["model"]["slot_size_from_data"]
    from training.model import ASTSeg

    torch.manual_seed(1)
    model = ASTSeg(Config.from_dict(config).model)
    path = tmp_path / "old.pt"
    save_checkpoint(path, {"config": config, "model": model.state_dict(), "step": 100})
    result = export_bundle(path, tmp_path / "bundle", ExportOptions(batch=1), lambda _: None)
    section = result.manifest["background"]
    assert (section["image_height"], section["image_width"]) == (32, 48)
    graph = onnx.load(str(result.bundle / "background.onnx"))
    dims = [d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, 32, 48]


def test_background_weights_are_stored_as_float16_and_computed_in_float32(fixed_camera) -> None:
    checkpoint, result, _, _ = fixed_camera
    graph = onnx.load(str(result.bundle / "background.onnx")).graph
    large = [i for i in graph.initializer if int(np.prod(i.dims)) >= MIN_ELEMENTS]
    assert large and all(i.data_type == onnx.TensorProto.FLOAT16 for i in large)
    casts = [n for n in graph.node if n.op_type == "Cast" and n.input[0].endswith("__float16")]
    assert len(casts) == len(large)
    # Rounding moved each weight by at most half a float16 ulp: 2^-11 of its size.
    model, _, _ = load_model(checkpoint)
    rounded = [p.detach().clone() for p in model.background.parameters()]
    exact = [p.detach().clone() for p in model.background.parameters()]
    for tensor in rounded:
        tensor.copy_(tensor.half().float())
    for before, after in zip(exact, rounded, strict=True):
        assert torch.all((after - before).abs() <= before.abs() * 2**-11 + 2**-25)


def test_float16_storage_changes_no_result_of_the_float32_graph(tmp_path: Path) -> None:
    model, _, _ = load_model(write_checkpoint(tmp_path / "run.pt", _config(), seed=3))
    round_to_float16_(model.background)
    spec = background_spec(model.config)
    frames = np.random.default_rng(0).integers(0, 256, size=(2, 3, *BACKGROUND), dtype=np.uint8)
    plan = BatchPlan(dynamic=True, min=1, opt=1, max=4)
    path = tmp_path / "background.onnx"
    export_graph(model, spec, plan, torch.from_numpy(frames), path)
    before = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"image": frames}
    )
    size32 = path.stat().st_size
    assert store_weights_as_float16(path) > 0
    after = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"image": frames}
    )
    # The Casts restore float16-exact values bit for bit: the same float32 graph runs.
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)
    assert path.stat().st_size < 0.6 * size32


def test_float16_storage_refuses_weights_it_would_change(tmp_path: Path) -> None:
    model, _, _ = load_model(write_checkpoint(tmp_path / "run.pt", _config(), seed=3))
    spec = background_spec(model.config)
    frames = np.zeros((1, 3, *BACKGROUND), dtype=np.uint8)
    plan = BatchPlan(dynamic=True, min=1, opt=1, max=4)
    path = tmp_path / "background.onnx"
    export_graph(model, spec, plan, torch.from_numpy(frames), path)  # not rounded first
    with pytest.raises(ValueError, match="not float16-exact"):
        store_weights_as_float16(path)
