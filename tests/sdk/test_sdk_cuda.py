"""The cuda-python layer of the TensorRT backend, on a real GPU (skipped where there is none)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sdk import DeviceError
from sdk.backends.cuda_runtime import CudaRuntime, import_cudart
from sdk.backends.engine_check import RuntimeInfo, check_engine_compatible

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cuda() -> CudaRuntime:
    try:
        import_cudart()
        return CudaRuntime(0)
    except DeviceError as err:
        pytest.skip(f"no CUDA here: {err}")


def test_device_facts(cuda: CudaRuntime) -> None:
    name, capability = cuda.device_name_and_capability()
    assert name and "\x00" not in name
    assert re.fullmatch(r"\d+\.\d", capability)
    here = RuntimeInfo("10.8.0", name, capability)
    check_engine_compatible(
        {"tensorrt_version": "10.8.0", "gpu_name": name, "compute_capability": capability},
        "x",
        here,
    )


def test_memory_round_trip_on_a_stream(cuda: CudaRuntime) -> None:
    host = np.arange(4096, dtype=np.float32) * 0.5
    pointer = cuda.malloc(host.nbytes)
    stream = cuda.stream()
    try:
        assert int(stream) != 0  # TensorRT's execute_async_v3 takes the handle as an int
        cuda.to_device(pointer, host.ctypes.data, host.nbytes, stream)
        back = np.empty_like(host)
        cuda.to_host(back.ctypes.data, pointer, back.nbytes, stream)
        cuda.synchronize(stream)
        assert np.array_equal(back, host)
    finally:
        cuda.free(pointer)
        cuda.destroy_stream(stream)


def test_missing_device_index_is_one_sentence(cuda: CudaRuntime) -> None:
    with pytest.raises(DeviceError, match=r"CUDA device 999 was requested but this machine has"):
        CudaRuntime(999)
