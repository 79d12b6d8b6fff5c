"""Fakes of cuda-python's runtime module and of the TensorRT runtime API, for CPU-only tests.

They keep the rules of the real APIs that the backend can get wrong:
- the current device belongs to the calling host thread (`cudaSetDevice` changes it for
  that thread only; a new thread starts on device 0);
- memory and streams belong to the device that was current when they were created;
- a launch (`execute_async_v3`) fails when the current device is not the stream's or the
  engine's, and an engine reading or writing another device's memory is an illegal address;
- copies work across devices (the CUDA programming guide: a memory copy succeeds even when
  issued to a stream of another device).
Device memory is real host memory, so a run's numbers go through the copies for real.
"""

from __future__ import annotations

import ctypes
import itertools
import threading
from enum import IntEnum
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np


class CudaError(IntEnum):
    cudaSuccess = 0
    cudaErrorInvalidValue = 1
    cudaErrorInvalidDevice = 101
    cudaErrorInvalidResourceHandle = 400
    cudaErrorIllegalAddress = 700


class FakeStream:
    """A `cudaStream_t`: `int()` is refused like the removal cuda-bindings announced."""

    def __init__(self, handle: int, device: int) -> None:
        self.handle, self.device = handle, device

    def __int__(self) -> int:
        raise TypeError("int(cudaStream_t) was removed; use get_cuda_native_handle")


class LegacyStream(FakeStream):
    """A stream of cuda-python before 12.9: `int()` is the only way to its address."""

    def __int__(self) -> int:
        return self.handle


class FakeCudart(ModuleType):
    """`cuda.bindings.runtime` (its own names) with per-thread current devices."""

    cudaError_t = CudaError

    class cudaMemcpyKind(IntEnum):
        cudaMemcpyHostToDevice = 1
        cudaMemcpyDeviceToHost = 2

    def __init__(self, device_count: int = 2, legacy_streams: bool = False) -> None:
        super().__init__("cuda.bindings.runtime")
        self.device_count = device_count
        self.legacy_streams = legacy_streams
        self._local = threading.local()
        self._ids = itertools.count(1)
        self.memory: dict[int, tuple[int, ctypes.Array[ctypes.c_char]]] = {}
        self.streams: dict[int, FakeStream] = {}
        self.set_calls: list[tuple[str, int]] = []  # (thread name, device)

    # -- the thread's current device
    def current(self) -> int:
        return getattr(self._local, "device", 0)

    def cudaSetDevice(self, device: int) -> tuple[CudaError]:
        if not 0 <= device < self.device_count:
            return (CudaError.cudaErrorInvalidDevice,)
        self._local.device = device
        self.set_calls.append((threading.current_thread().name, device))
        return (CudaError.cudaSuccess,)

    def cudaGetDevice(self) -> tuple[CudaError, int]:
        return CudaError.cudaSuccess, self.current()

    def cudaGetDeviceCount(self) -> tuple[CudaError, int]:
        return CudaError.cudaSuccess, self.device_count

    def cudaGetDeviceProperties(self, device: int) -> tuple[CudaError, Any]:
        if not 0 <= device < self.device_count:
            return CudaError.cudaErrorInvalidDevice, None
        name = f"NVIDIA Fake GPU {device}".encode().ljust(256, b"\x00")
        return CudaError.cudaSuccess, SimpleNamespace(name=name, major=9, minor=0)

    def cudaGetErrorString(self, err: CudaError) -> tuple[CudaError, bytes]:
        return CudaError.cudaSuccess, CudaError(err).name.encode()

    # -- memory: allocations belong to the thread's current device
    def cudaMalloc(self, nbytes: int) -> tuple[CudaError, int]:
        device = self.current()
        pointer = (device + 1) << 40 | next(self._ids) << 20
        self.memory[pointer] = (device, ctypes.create_string_buffer(nbytes))
        return CudaError.cudaSuccess, pointer

    def cudaFree(self, pointer: int) -> tuple[CudaError]:
        if self.memory.pop(pointer, None) is None:
            return (CudaError.cudaErrorInvalidValue,)
        return (CudaError.cudaSuccess,)

    def device_of(self, pointer: int) -> int:
        return self.memory[pointer][0]

    def buffer(self, pointer: int) -> ctypes.Array[ctypes.c_char]:
        return self.memory[pointer][1]

    def cudaStreamCreate(self) -> tuple[CudaError, FakeStream]:
        kind = LegacyStream if self.legacy_streams else FakeStream
        stream = kind(0x5000 + next(self._ids), self.current())
        self.streams[stream.handle] = stream
        return CudaError.cudaSuccess, stream

    def cudaStreamDestroy(self, stream: FakeStream) -> tuple[CudaError]:
        if self.streams.pop(stream.handle, None) is None:
            return (CudaError.cudaErrorInvalidResourceHandle,)
        return (CudaError.cudaSuccess,)

    def cudaStreamSynchronize(self, stream: FakeStream) -> tuple[CudaError]:
        if stream.handle not in self.streams:
            return (CudaError.cudaErrorInvalidResourceHandle,)
        return (CudaError.cudaSuccess,)

    def cudaMemcpyAsync(
        self, dst: int, src: int, nbytes: int, kind: int, stream: FakeStream
    ) -> tuple[CudaError]:
        if stream.handle not in self.streams:
            return (CudaError.cudaErrorInvalidResourceHandle,)
        to_device = kind == self.cudaMemcpyKind.cudaMemcpyHostToDevice
        pointer = dst if to_device else src
        if pointer not in self.memory or len(self.buffer(pointer)) < nbytes:
            return (CudaError.cudaErrorInvalidValue,)
        if to_device:
            ctypes.memmove(self.buffer(dst), src, nbytes)
        else:
            ctypes.memmove(dst, self.buffer(src), nbytes)
        return (CudaError.cudaSuccess,)


def fake_bindings_utils(cudart: FakeCudart) -> ModuleType:
    """`cuda.bindings.utils` of cuda-bindings >= 12.9, knowing the fake's stream type."""
    module = ModuleType("cuda.bindings.utils")
    calls: list[FakeStream] = []

    def get_cuda_native_handle(obj: Any) -> int:
        if not isinstance(obj, FakeStream):
            raise TypeError(f"Unknown type: {type(obj)}")
        calls.append(obj)
        return obj.handle

    module.get_cuda_native_handle = get_cuda_native_handle  # type: ignore[attr-defined]
    module.calls = calls  # type: ignore[attr-defined]
    return module


class _Mode(IntEnum):
    INPUT = 0
    OUTPUT = 1


class FakeTensorRT(ModuleType):
    """The part of the `tensorrt` module the runtime backend uses, running one fake plan.

    The plan (bytes b"FAKE-SEGMENTER") is a fused segmenter over K slots whose outputs
    are simple functions of the image, so a test can check the numbers that come back.
    """

    float32, float16, int32, int64, int8, uint8, bool = (
        "float32",
        "float16",
        "int32",
        "int64",
        "int8",
        "uint8",
        "bool",
    )
    TensorIOMode = _Mode

    class Logger:
        WARNING = 2

        def __init__(self, level: int) -> None:
            self.level = level

    def __init__(self, cudart: FakeCudart, height: int, width: int, slots: int = 2) -> None:
        super().__init__("tensorrt")
        self.__version__ = "10.13.3.9"
        self.cudart, self.height, self.width, self.slots = cudart, height, width, slots
        fake = self

        class Runtime:
            def __init__(self, logger: Any) -> None:
                self.logger = logger

            def deserialize_cuda_engine(self, data: bytes) -> Any:
                if data != b"FAKE-SEGMENTER":
                    return None
                return FakeEngine(fake, fake.cudart.current())

        self.Runtime = Runtime

    def shapes(self, n: int) -> dict[str, tuple[tuple[int, ...], str]]:
        k, h, w = self.slots, self.height, self.width
        return {
            "image": ((n, 3, h, w), "uint8"),
            "position": ((n, k, 2), "float32"),
            "scale": ((n, k, 2), "float32"),
            "log_activation": ((n, k), "float32"),
            "z_what": ((n, k, 4), "float32"),
            "weights": ((n, k + 1, h, w), "float32"),
            "segmentation": ((n, h, w), "int64"),
        }


def fake_outputs(image: np.ndarray, slots: int) -> dict[str, np.ndarray]:
    """What the fake plan computes, in numpy, for the test to compare against."""
    n, _, h, w = image.shape
    mean = image.reshape(n, -1).astype(np.float32).mean(axis=1)
    ramp = np.arange(slots, dtype=np.float32)
    weights = np.zeros((n, slots + 1, h, w), np.float32)
    weights[:, 0] = image[:, 0].astype(np.float32) / 255.0
    weights[:, 1:] = ((1.0 - weights[:, 0]) / slots)[:, None]
    return {
        "position": np.stack([mean[:, None] + ramp, -mean[:, None] - ramp], axis=-1),
        "scale": np.full((n, slots, 2), 2.0, np.float32),
        "log_activation": mean[:, None] - ramp,
        "z_what": np.repeat((mean[:, None, None] + ramp[None, :, None]), 4, axis=2),
        "weights": weights,
        "segmentation": (image[:, 1] > 127).astype(np.int64),
    }


class FakeEngine:
    def __init__(self, trt: FakeTensorRT, device: int) -> None:
        self.trt, self.device = trt, device
        self.names = list(trt.shapes(1))
        self.num_io_tensors = len(self.names)

    def get_tensor_name(self, i: int) -> str:
        return self.names[i]

    def get_tensor_mode(self, name: str) -> _Mode:
        return _Mode.INPUT if name == "image" else _Mode.OUTPUT

    def get_tensor_dtype(self, name: str) -> str:
        return self.trt.shapes(1)[name][1]

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        return (-1, *self.trt.shapes(1)[name][0][1:])

    def get_tensor_profile_shape(self, name: str, profile: int) -> list[tuple[int, ...]]:
        shape = self.trt.shapes(1)[name][0]
        return [shape, (2, *shape[1:]), (4, *shape[1:])]

    def create_execution_context(self) -> FakeContext:
        return FakeContext(self)


class FakeContext:
    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine
        self.batch = 0
        self.addresses: dict[str, int] = {}
        self.failures: list[str] = []

    def set_input_shape(self, name: str, shape: tuple[int, ...]) -> bool:
        self.batch = int(shape[0])
        return True

    def set_tensor_address(self, name: str, pointer: int) -> bool:
        self.addresses[name] = pointer
        return True

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        return self.engine.trt.shapes(self.batch)[name][0]

    def execute_async_v3(self, stream_handle: int) -> bool:
        cudart = self.engine.trt.cudart
        stream = cudart.streams.get(stream_handle)
        here = cudart.current()
        # What TensorRT reports as a CUDA error (it logs it and returns False).
        if stream is None:
            self.failures.append("cudaErrorInvalidResourceHandle: unknown stream")
        elif stream.device != here:
            self.failures.append(
                f"cudaErrorInvalidResourceHandle: stream of device {stream.device} "
                f"launched with device {here} current"
            )
        elif self.engine.device != here:
            self.failures.append(
                f"cudaErrorInvalidResourceHandle: engine of device {self.engine.device} "
                f"run with device {here} current"
            )
        else:
            for name, pointer in self.addresses.items():
                if cudart.device_of(pointer) != self.engine.device:
                    self.failures.append(f"cudaErrorIllegalAddress: {name} on another device")
        if self.failures:
            return False
        shapes = self.engine.trt.shapes(self.batch)
        shape, dtype = shapes["image"]
        image = np.frombuffer(cudart.buffer(self.addresses["image"]), np.uint8)
        outputs = fake_outputs(image[: int(np.prod(shape))].reshape(shape), self.engine.trt.slots)
        for name, value in outputs.items():
            data = np.ascontiguousarray(value.astype(shapes[name][1]))
            ctypes.memmove(cudart.buffer(self.addresses[name]), data.ctypes.data, data.nbytes)
        return True
