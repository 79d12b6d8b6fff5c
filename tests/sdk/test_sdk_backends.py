"""Backends: provider choice, TensorRT plan compatibility (pure), and fallbacks without a GPU."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np
import pytest
from toy_bundle import write_manifest

from sdk import BundleError, DeviceError, Segmenter, load_bundle
from sdk.backends import open_backend, parse_device
from sdk.backends.cuda_runtime import import_cudart
from sdk.backends.engine_check import RuntimeInfo, check_engine_compatible, normalize_capability
from sdk.backends.onnx_runtime import CPU, CUDA, TENSORRT, choose_providers

H100 = RuntimeInfo("10.8.0.43", "NVIDIA H100 80GB HBM3", "9.0")
SIDECAR = {
    "tensorrt_version": "10.8.0",
    "gpu_name": "NVIDIA H100 80GB HBM3",
    "compute_capability": [9, 0],
    "precision": "fp16",
    "profiles": [{"image": [[1, 3, 64, 64], [1, 3, 64, 64], [8, 3, 64, 64]]}],
}


def test_plan_for_this_machine_is_accepted() -> None:
    check_engine_compatible(SIDECAR, "encoder.engine", H100)  # build number ignored
    check_engine_compatible({**SIDECAR, "gpu_name": " nvidia h100 80gb hbm3 "}, "e.engine", H100)


@pytest.mark.parametrize(
    ("change", "built"),
    [
        ({"tensorrt_version": "10.3.0"}, "TensorRT 10.3.0 on NVIDIA H100 80GB HBM3 (compute 9.0)"),
        ({"tensorrt_version": "11.0.0"}, "TensorRT 11.0.0 on NVIDIA H100 80GB HBM3 (compute 9.0)"),
        (
            {"gpu_name": "NVIDIA A100-SXM4-40GB", "compute_capability": "8.0"},
            "TensorRT 10.8.0 on NVIDIA A100-SXM4-40GB (compute 8.0)",
        ),
        ({"compute_capability": 8.9}, "TensorRT 10.8.0 on NVIDIA H100 80GB HBM3 (compute 8.9)"),
    ],
)
def test_plan_for_another_machine_names_both_and_the_rebuild(change: dict, built: str) -> None:
    with pytest.raises(BundleError) as caught:
        check_engine_compatible({**SIDECAR, **change}, "encoder.engine", H100)
    message = str(caught.value)
    assert f"encoder.engine was built for {built}" in message
    assert "this machine has TensorRT 10.8.0.43 on NVIDIA H100 80GB HBM3 (compute 9.0)" in message
    assert "astseg export RUN --out BUNDLE --trt" in message


@pytest.mark.parametrize(
    ("change", "built"),
    [
        ({"cpu_arch": "aarch64"}, "(compute 9.0), Linux aarch64"),
        ({"os": "Windows"}, "(compute 9.0), Windows x86_64"),
    ],
)
def test_plan_for_another_platform_is_refused_like_another_gpu(change: dict, built: str) -> None:
    here = RuntimeInfo("10.8.0.43", "NVIDIA H100 80GB HBM3", "9.0", os="Linux", cpu_arch="x86_64")
    sidecar = {**SIDECAR, "os": "Linux", "cpu_arch": "x86_64"}
    check_engine_compatible(sidecar, "encoder.engine", here)
    check_engine_compatible({**sidecar, "os": "linux"}, "encoder.engine", here)
    with pytest.raises(BundleError) as caught:
        check_engine_compatible({**sidecar, **change}, "encoder.engine", here)
    message = str(caught.value)
    assert message.startswith(
        f"encoder.engine was built for TensorRT 10.8.0 on NVIDIA H100 80GB HBM3 {built}, "
        "but this machine has TensorRT 10.8.0.43 on NVIDIA H100 80GB HBM3 (compute 9.0), "
        "Linux x86_64; rebuild the engine here with `astseg export RUN --out BUNDLE --trt`"
    )
    assert "\n" not in message


def test_a_sidecar_from_before_the_platform_was_recorded_is_checked_without_it() -> None:
    assert "os" not in SIDECAR and "cpu_arch" not in SIDECAR
    for os_name, arch in (("Linux", "x86_64"), ("Linux", "aarch64"), ("Windows", "x86_64")):
        here = RuntimeInfo("10.8.0", "NVIDIA H100 80GB HBM3", "9.0", os=os_name, cpu_arch=arch)
        check_engine_compatible(SIDECAR, "encoder.engine", here)
    with pytest.raises(BundleError, match=r"has a 'cpu_arch' that is not a name \(''\)"):
        check_engine_compatible({**SIDECAR, "cpu_arch": ""}, "x", H100)


def test_this_machine_is_named_the_way_sidecars_store_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import platform

    from sdk.backends import engine_check

    for machine, arch in (("AMD64", "x86_64"), ("arm64", "aarch64"), ("x86_64", "x86_64")):
        monkeypatch.setattr(platform, "machine", lambda m=machine: m)
        assert engine_check.host_cpu_arch() == arch
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    assert RuntimeInfo("10.8.0", "g", "9.0").os == "Linux"


def test_sidecar_without_fields_is_refused() -> None:
    with pytest.raises(BundleError, match=r"has no 'gpu_name'"):
        check_engine_compatible(
            {"tensorrt_version": "10.8", "compute_capability": "9.0"}, "x", H100
        )
    with pytest.raises(BundleError, match=r"compute capability 'nine'"):
        check_engine_compatible({**SIDECAR, "compute_capability": "nine"}, "x", H100)


def test_capability_forms() -> None:
    assert [normalize_capability(v) for v in ("8.6", 8.6, [8, 6], (9, 0), 9, "12")] == [
        "8.6",
        "8.6",
        "8.6",
        "9.0",
        "9.0",
        "12.0",
    ]


def test_provider_order_and_trt_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASTSEG_CACHE_DIR", str(tmp_path))
    chosen = choose_providers([CPU, CUDA, TENSORRT], "auto", 1)
    assert [name for name, _ in chosen] == [TENSORRT, CUDA, CPU]
    trt_options = chosen[0][1]
    assert trt_options["trt_engine_cache_enable"] is True
    assert trt_options["trt_engine_cache_path"] == str(tmp_path / "trt")
    assert (tmp_path / "trt").is_dir()
    assert trt_options["device_id"] == 1 and chosen[1][1] == {"device_id": 1}
    assert choose_providers([CPU, CUDA, TENSORRT], "cpu", 0) == [(CPU, {})]
    assert choose_providers([CPU], "auto", 0) == [(CPU, {})]
    with pytest.raises(DeviceError, match=r"no CUDA or TensorRT provider"):
        choose_providers([CPU], "cuda", 0)


def test_parse_device() -> None:
    assert parse_device("auto") == ("auto", 0)
    assert parse_device("CPU") == ("cpu", 0)
    assert parse_device("cuda:2") == ("cuda", 2)
    assert parse_device(1) == ("cuda", 1)
    with pytest.raises(ValueError, match=r"device 'gpu0'"):
        parse_device("gpu0")


def test_onnxruntime_backend_uses_all_cores_and_splits_large_batches(toy_bundle_dir: Path) -> None:
    backend = open_backend(load_bundle(toy_bundle_dir), "onnxruntime", "cpu", threads=2)
    assert "CPUExecutionProvider" in backend.description and "2 threads" in backend.description
    images = np.zeros((11, 3, 64, 64), np.uint8)  # more than batch.max = 8
    images[:, 0, 10:20, 10:20] = 255
    out = backend.run(images)
    assert out.weights.shape == (11, 5, 64, 64) and out.segmentation.shape == (11, 64, 64)
    assert np.allclose(out.weights.sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(out.segmentation[0], out.segmentation[10])


@pytest.mark.parametrize(
    ("started", "missing"),
    [([TENSORRT, CUDA, CPU], []), ([CUDA, CPU], [TENSORRT]), ([CPU], [TENSORRT, CUDA])],
    ids=["all-started", "trt-failed", "gpu-failed"],
)
def test_a_provider_that_could_not_start_is_logged_once(
    toy_bundle_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    started: list[str],
    missing: list[str],
) -> None:
    """ORT drops a listed provider whose library fails to load and says nothing; we say it."""
    import onnxruntime as ort

    real_session = ort.InferenceSession
    requested: list[list[str]] = []

    class SessionWhoseProvidersFailed:
        """A CPU session that reports the providers a GPU machine would have started."""

        def __init__(self, path: str, sess_options: object, providers: list) -> None:
            requested.append([name for name, _ in providers])
            self._session = real_session(path, sess_options=sess_options, providers=[CPU])

        def get_providers(self) -> list[str]:
            return list(started)

        def __getattr__(self, name: str) -> object:
            return getattr(self._session, name)

    monkeypatch.setattr(ort, "get_available_providers", lambda: [TENSORRT, CUDA, CPU])
    monkeypatch.setattr(ort, "InferenceSession", SessionWhoseProvidersFailed)
    with caplog.at_level(logging.WARNING, logger="astseg"):
        backend = open_backend(load_bundle(toy_bundle_dir), "onnxruntime", "cuda", threads=1)
    assert requested == [[TENSORRT, CUDA, CPU]] * 2  # encoder and renderer
    assert backend.fallen_back == missing  # type: ignore[attr-defined]
    warnings = [r.getMessage() for r in caplog.records if "could not start" in r.getMessage()]
    if not missing:
        assert warnings == []
        return
    assert len(warnings) == 1  # once, not once per session
    assert warnings[0].startswith(
        f"astseg: onnxruntime could not start {', '.join(missing)} and fell back to "
        f"{', '.join(started)};"
    )
    out = backend.run(np.zeros((1, 3, 64, 64), np.uint8))
    assert out.weights.shape == (1, 5, 64, 64)


def _bundle_with_engines(bundle: Path) -> Path:
    manifest = json.loads((bundle / "astseg.json").read_text())
    for graph in ("encoder", "renderer"):
        (bundle / f"{graph}.engine").write_bytes(b"not really a plan")
        (bundle / f"{graph}.engine.json").write_text(json.dumps(SIDECAR))
        manifest["files"][f"{graph}.engine"] = {}
        manifest["files"][f"{graph}.engine.json"] = {}
    manifest["engines"] = {
        g: {"plan": f"{g}.engine", "sidecar": f"{g}.engine.json"} for g in ("encoder", "renderer")
    }
    write_manifest(bundle, manifest)
    return bundle


def test_explicit_tensorrt_without_tensorrt_is_one_sentence(bundle_copy: Path) -> None:
    if "tensorrt" in sys.modules or _importable("tensorrt"):
        pytest.skip("tensorrt is installed here")
    with pytest.raises(DeviceError, match=r"needs the tensorrt package"):
        Segmenter(_bundle_with_engines(bundle_copy), backend="tensorrt")
    with pytest.raises(ValueError, match=r"needs a GPU"):
        Segmenter(bundle_copy, backend="tensorrt", device="cpu")


def test_auto_falls_back_to_onnxruntime_and_says_why(
    bundle_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if _importable("tensorrt"):
        pytest.skip("tensorrt is installed here")
    with caplog.at_level(logging.INFO, logger="astseg"):
        seg = Segmenter(_bundle_with_engines(bundle_copy))
    assert seg.backend.name == "onnxruntime"
    text = caplog.text
    assert "not using the bundle's TensorRT plans" in text and "tensorrt package" in text
    assert "running bundle with onnxruntime" in text


def test_cuda_python_missing_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cuda", None)
    monkeypatch.setitem(sys.modules, "cuda.bindings", None)
    with pytest.raises(DeviceError, match=r"needs cuda-python"):
        import_cudart()


def test_unknown_backend(toy_bundle_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"backend 'openvino' is not one of"):
        Segmenter(toy_bundle_dir, backend="openvino")


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
