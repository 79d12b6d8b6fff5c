"""The CUDA runtime through cuda-python, without torch: device facts, memory, streams.

cuda-python 13 moved the runtime bindings from `cuda.cudart` to
`cuda.bindings.runtime`; both import paths are tried so either major version works.
Every call returns an error code first, which `_check` turns into a DeviceError.

The current device is a property of the calling host thread (`cudaSetDevice`
changes it for that thread only), so `use_device()` must run in every thread
that allocates, copies or launches for this runtime, not only in the one that
opened it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from sdk.errors import DeviceError


def native_handle(obj: Any) -> int:
    """The address behind a cuda-python object (a stream) as an int, for TensorRT's calls.

    cuda-bindings 12.9 deprecated `int(obj)` in favour of
    `cuda.bindings.utils.get_cuda_native_handle`; older versions only have `int()`.
    """
    try:
        from cuda.bindings.utils import get_cuda_native_handle
    except ImportError:
        return int(obj)
    try:
        return int(get_cuda_native_handle(obj))
    except TypeError:  # a type it has no getter for (a plain int handle)
        return int(obj)


def import_cudart() -> ModuleType:
    """The cuda-python runtime module, from whichever path this version provides."""
    try:
        from cuda.bindings import runtime  # cuda-python >= 12.6, and the only path in 13

        return runtime
    except ImportError:
        pass
    try:
        from cuda import cudart  # cuda-python 12 before the move

        return cudart
    except ImportError as err:
        raise DeviceError(
            "the TensorRT backend needs cuda-python (pip install 'astseg[gpu]'); "
            "or use --backend onnxruntime."
        ) from err


class CudaRuntime:
    """Thin, checked wrapper over the runtime calls the TensorRT backend needs."""

    def __init__(self, device_index: int = 0) -> None:
        self.rt = import_cudart()
        count = self._check(self.rt.cudaGetDeviceCount(), "cudaGetDeviceCount")
        if device_index >= int(count):
            raise DeviceError(
                f"CUDA device {device_index} was requested but this machine has {int(count)}; "
                "pick another device or use device='cpu'."
            )
        self.device_index = device_index
        self.use_device()

    def use_device(self) -> None:
        """Make this runtime's GPU current for the calling thread (a cheap call when it is)."""
        self._check(self.rt.cudaSetDevice(self.device_index), "cudaSetDevice")

    def _check(self, result: Any, call: str) -> Any:
        err, *values = result if isinstance(result, tuple) else (result,)
        if err != self.rt.cudaError_t.cudaSuccess:
            _, text = self.rt.cudaGetErrorString(err)
            message = text.decode() if isinstance(text, bytes) else str(text)
            raise DeviceError(f"CUDA call {call} failed ({message}); check the GPU driver.")
        if not values:
            return None
        return values[0] if len(values) == 1 else tuple(values)

    def device_name_and_capability(self) -> tuple[str, str]:
        prop = self._check(
            self.rt.cudaGetDeviceProperties(self.device_index), "cudaGetDeviceProperties"
        )
        name = prop.name
        text = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
        return text.rstrip("\x00").strip(), f"{prop.major}.{prop.minor}"

    def malloc(self, nbytes: int) -> int:
        return int(self._check(self.rt.cudaMalloc(max(1, nbytes)), "cudaMalloc"))

    def free(self, pointer: int) -> None:
        self._check(self.rt.cudaFree(pointer), "cudaFree")

    def stream(self) -> Any:
        return self._check(self.rt.cudaStreamCreate(), "cudaStreamCreate")

    def destroy_stream(self, stream: Any) -> None:
        self._check(self.rt.cudaStreamDestroy(stream), "cudaStreamDestroy")

    def to_device(self, pointer: int, host: Any, nbytes: int, stream: Any) -> None:
        kind = self.rt.cudaMemcpyKind.cudaMemcpyHostToDevice
        self._check(self.rt.cudaMemcpyAsync(pointer, host, nbytes, kind, stream), "cudaMemcpyAsync")

    def to_host(self, host: Any, pointer: int, nbytes: int, stream: Any) -> None:
        kind = self.rt.cudaMemcpyKind.cudaMemcpyDeviceToHost
        self._check(self.rt.cudaMemcpyAsync(host, pointer, nbytes, kind, stream), "cudaMemcpyAsync")

    def synchronize(self, stream: Any) -> None:
        self._check(self.rt.cudaStreamSynchronize(stream), "cudaStreamSynchronize")
