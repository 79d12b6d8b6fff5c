"""TensorRtBackend.run on fake CUDA and TensorRT modules that keep the real per-thread rules."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest

from sdk.backends.cuda_runtime import CudaRuntime, native_handle
from sdk.bundle.manifest import EngineSpec
from sdk.errors import DeviceError
from tests.sdk.fake_gpu import (
    FakeCudart,
    FakeStream,
    FakeTensorRT,
    LegacyStream,
    fake_bindings_utils,
    fake_outputs,
)

H, W = 6, 10


def _install(
    monkeypatch: pytest.MonkeyPatch, cudart: FakeCudart, with_utils: bool = True
) -> ModuleType | None:
    cuda, bindings = ModuleType("cuda"), ModuleType("cuda.bindings")
    bindings.runtime = cudart  # type: ignore[attr-defined]
    cuda.bindings = bindings  # type: ignore[attr-defined]
    utils = fake_bindings_utils(cudart) if with_utils else None
    monkeypatch.setitem(sys.modules, "cuda", cuda)
    monkeypatch.setitem(sys.modules, "cuda.bindings", bindings)
    monkeypatch.setitem(sys.modules, "cuda.bindings.runtime", cudart)
    monkeypatch.setitem(sys.modules, "cuda.bindings.utils", utils)  # None: ImportError
    return utils


def _bundle(tmp_path: Path, gpu_name: str) -> Any:
    (tmp_path / "segmenter.engine").write_bytes(b"FAKE-SEGMENTER")
    sidecar = {"tensorrt_version": "10.13.3.9", "gpu_name": gpu_name, "compute_capability": "9.0"}
    (tmp_path / "segmenter.engine.json").write_text(json.dumps(sidecar))
    engines = {"segmenter": EngineSpec("segmenter.engine", "segmenter.engine.json")}
    return SimpleNamespace(
        manifest=SimpleNamespace(engines=engines),
        source=str(tmp_path),
        path=lambda name: tmp_path / name,
    )


def _images(n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, size=(n, 3, H, W), dtype=np.uint8)


def _backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, device: int, **fake: Any) -> Any:
    cudart = FakeCudart(device_count=2, **fake)
    _install(monkeypatch, cudart)
    trt = FakeTensorRT(cudart, H, W)
    monkeypatch.setitem(sys.modules, "tensorrt", trt)
    from sdk.backends.tensorrt_plan import TensorRtBackend

    return TensorRtBackend(_bundle(tmp_path, f"NVIDIA Fake GPU {device}"), device_index=device), (
        cudart
    )


def _run_in_thread(backend: Any, images: np.ndarray) -> Any:
    """Like the pipeline: run() on a fresh inference thread, whose current device starts at 0."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["out"] = backend.run(images)
        except Exception as err:  # handed back to the test thread
            box["err"] = err

    thread = threading.Thread(target=work, name="astseg-infer")
    thread.start()
    thread.join(timeout=30)
    if "err" in box:
        raise box["err"]
    return box["out"]


def test_the_fake_runtime_keeps_the_current_device_per_thread() -> None:
    cudart = FakeCudart(device_count=2)
    assert cudart.cudaSetDevice(1)[0] == 0 and cudart.current() == 1
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(cudart.cudaMalloc(16)[1]))
    thread.start()
    thread.join()
    assert cudart.device_of(seen[0]) == 0  # a new thread allocates on device 0
    assert cudart.device_of(cudart.cudaMalloc(16)[1]) == 1
    assert cudart.cudaSetDevice(2)[0] == 101  # cudaErrorInvalidDevice


@pytest.mark.parametrize(
    ("device", "legacy"), [(0, False), (1, False), (1, True)], ids=["gpu0", "gpu1", "gpu1-int"]
)
def test_run_from_the_inference_thread_uses_the_requested_gpu(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, device: int, legacy: bool
) -> None:
    backend, cudart = _backend(monkeypatch, tmp_path, device, legacy_streams=legacy)
    images = _images(6)  # two chunks: the profile's largest batch is 4
    out = _run_in_thread(backend, images)
    want = fake_outputs(images, 2)
    for name, value in want.items():
        got = getattr(out, name)
        assert got.shape == value.shape, name
        assert np.array_equal(got, value.astype(got.dtype)), name
    # Every buffer, and the stream, live on the requested GPU.
    assert {cudart.device_of(p) for p in cudart.memory} == {device}
    assert {s.device for s in cudart.streams.values()} == {device}
    assert ("astseg-infer", device) in cudart.set_calls
    backend.close()
    assert cudart.memory == {} and cudart.streams == {}


def test_a_launch_on_the_wrong_gpu_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    backend, cudart = _backend(monkeypatch, tmp_path, 1)
    backend.cuda.use_device = lambda: None  # what the backend did before: never in the thread
    with pytest.raises(DeviceError, match=r"^TensorRT failed to run segmenter.engine; see"):
        _run_in_thread(backend, _images(1))
    assert "launched with device 0 current" in backend.plans[0].context.failures[0]


def test_the_stream_handle_comes_from_get_cuda_native_handle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    backend, _ = _backend(monkeypatch, tmp_path, 0)
    stream = backend.stream
    assert isinstance(stream, FakeStream) and not isinstance(stream, LegacyStream)
    assert backend._stream_handle == stream.handle
    assert sys.modules["cuda.bindings.utils"].calls == [stream]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):  # int() of such a stream is what cuda-bindings removes
        int(stream)


def test_without_bindings_utils_the_handle_is_int_of_the_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cudart = FakeCudart(device_count=1, legacy_streams=True)
    _install(monkeypatch, cudart, with_utils=False)
    cuda = CudaRuntime(0)
    stream = cuda.stream()
    assert native_handle(stream) == stream.handle
    # And a plain int (another library's handle) passes through get_cuda_native_handle's TypeError.
    _install(monkeypatch, cudart, with_utils=True)
    assert native_handle(0x1234) == 0x1234


def test_a_missing_gpu_index_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, FakeCudart(device_count=2))
    with pytest.raises(DeviceError, match=r"CUDA device 2 was requested but this machine has 2"):
        CudaRuntime(2)
