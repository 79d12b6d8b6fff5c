"""Native TensorRT backend: runs the bundle's `*.engine` plans with the TensorRT Python API.

Uses the name-based I/O API of TensorRT 10 and 11 (`num_io_tensors`,
`get_tensor_name`, `set_input_shape`, `set_tensor_address`, `execute_async_v3`)
and CUDA memory from cuda-python, so no torch is needed on the edge box. With
separate encoder and renderer plans the latents stay on the GPU: the renderer's
inputs are bound to the encoder's output buffers.
"""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

import numpy as np

from sdk.backends.base import (
    BACKGROUND_NAMES,
    IMAGE_INPUT,
    LATENT_NAMES,
    OUTPUT_NAMES,
    BackgroundOutput,
    ModelOutput,
    run_background_in_chunks,
    run_in_chunks,
)
from sdk.backends.cuda_runtime import CudaRuntime, native_handle
from sdk.backends.engine_check import REBUILD, RuntimeInfo, check_engine_compatible
from sdk.bundle.bundle import Bundle
from sdk.bundle.safe_json import JsonFormatError, read_json_object
from sdk.errors import BundleError, DeviceError

log = logging.getLogger("astseg")


def import_tensorrt() -> ModuleType:
    try:
        import tensorrt
    except ImportError as err:
        raise DeviceError(
            "the TensorRT backend needs the tensorrt package (pip install 'astseg[gpu]'); "
            "or use --backend onnxruntime."
        ) from err
    return tensorrt


def _numpy_dtype(trt: ModuleType, dtype: Any) -> np.dtype[Any]:
    table = {
        "float32": np.float32,
        "float16": np.float16,
        "int32": np.int32,
        "int64": np.int64,
        "int8": np.int8,
        "uint8": np.uint8,
        "bool": np.bool_,
    }
    for name, np_type in table.items():
        alias = getattr(trt, name, None)  # tensorrt exports trt.float32 == DataType.FLOAT, ...
        if alias is not None and dtype == alias:
            return np.dtype(np_type)
    raise BundleError(f"a TensorRT plan uses tensor type {dtype}, which astseg cannot read.")


class _Buffer:
    """A device allocation that grows when a larger batch arrives."""

    def __init__(self, cuda: CudaRuntime) -> None:
        self.cuda = cuda
        self.pointer = 0
        self.capacity = 0

    def ensure(self, nbytes: int) -> int:
        if nbytes > self.capacity:
            if self.pointer:
                self.cuda.free(self.pointer)
            self.pointer = self.cuda.malloc(nbytes)
            self.capacity = nbytes
        return self.pointer

    def release(self) -> None:
        if self.pointer:
            self.cuda.free(self.pointer)
            self.pointer, self.capacity = 0, 0


class _Plan:
    """One deserialised engine with its execution context and device buffers."""

    def __init__(
        self, trt: ModuleType, runtime: Any, cuda: CudaRuntime, data: bytes, shown: str
    ) -> None:
        self.engine = runtime.deserialize_cuda_engine(data)
        if self.engine is None:
            raise BundleError(
                f"TensorRT could not deserialise {shown} (corrupt or built by another version); "
                f"rebuild it with `{REBUILD}`."
            )
        self.context = self.engine.create_execution_context()
        self.shown = shown
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        is_input = {n: self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names}
        self.inputs = [n for n in names if is_input[n]]
        self.outputs = [n for n in names if not is_input[n]]
        self.dtypes = {n: _numpy_dtype(trt, self.engine.get_tensor_dtype(n)) for n in names}
        self.buffers = {n: _Buffer(cuda) for n in names}

    def max_batch(self) -> tuple[int, bool]:
        """Largest batch of the first optimisation profile, and whether the batch is fixed."""
        first = self.inputs[0]
        shape = tuple(self.engine.get_tensor_shape(first))
        if shape[0] >= 0:
            return int(shape[0]), True
        _, _, largest = self.engine.get_tensor_profile_shape(first, 0)
        return int(largest[0]), False

    def bind_outputs(self) -> dict[str, tuple[int, tuple[int, ...]]]:
        """Allocate outputs for the current input shapes; return pointer and shape per output."""
        bound = {}
        for name in self.outputs:
            shape = tuple(int(d) for d in self.context.get_tensor_shape(name))
            nbytes = int(np.prod(shape)) * self.dtypes[name].itemsize
            pointer = self.buffers[name].ensure(nbytes)
            self.context.set_tensor_address(name, pointer)
            bound[name] = (pointer, shape)
        return bound

    def release(self) -> None:
        for buffer in self.buffers.values():
            buffer.release()


class TensorRtBackend:
    """Runs `segmenter.engine`, or `encoder.engine` then `renderer.engine`, on one GPU."""

    name = "tensorrt"

    def __init__(self, bundle: Bundle, device_index: int = 0) -> None:
        trt = import_tensorrt()
        self.cuda = CudaRuntime(device_index)
        gpu, capability = self.cuda.device_name_and_capability()
        here = RuntimeInfo(str(trt.__version__), gpu, capability)
        engines = bundle.manifest.engines
        if "segmenter" in engines:
            order = ["segmenter"]
        elif "encoder" in engines and "renderer" in engines:
            order = ["encoder", "renderer"]
        else:
            raise BundleError(
                f"bundle {bundle.source} has no TensorRT plans for both encoder and renderer "
                f"(or a fused segmenter); build them with `{REBUILD}`."
            )
        # the fixed-camera background plan runs beside the slot plans when it was built
        extra = ["background"] if "background" in engines else []
        for graph in order + extra:  # check every sidecar before deserialising anything
            spec = engines[graph]
            try:
                sidecar = read_json_object(bundle.path(spec.sidecar))
            except (JsonFormatError, OSError) as err:
                raise BundleError(
                    f"{spec.sidecar} in bundle {bundle.source} is not readable ({err}); "
                    f"rebuild the plan with `{REBUILD}`."
                ) from err
            check_engine_compatible(sidecar, spec.plan, here)
        self._trt_logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._trt_logger)
        self.plans = [
            _Plan(
                trt,
                self._runtime,
                self.cuda,
                bundle.path(engines[g].plan).read_bytes(),
                engines[g].plan,
            )
            for g in order
        ]
        self.background_plan = (
            _Plan(
                trt,
                self._runtime,
                self.cuda,
                bundle.path(engines["background"].plan).read_bytes(),
                engines["background"].plan,
            )
            if extra
            else None
        )
        self.has_background = self.background_plan is not None
        self.stream = self.cuda.stream()
        self._stream_handle = native_handle(self.stream)
        self._input = _Buffer(self.cuda)
        self._max_batch, self._fixed = self.plans[0].max_batch()
        self.description = (
            f"TensorRT {trt.__version__} on {gpu} (compute {capability}), "
            + " -> ".join(engines[g].plan for g in order)
            + "".join(f", {engines[g].plan}" for g in extra)
        )

    def _run_on_images(
        self, plan: _Plan, images: np.ndarray
    ) -> dict[str, tuple[int, tuple[int, ...]]]:
        """Copy an image batch to the GPU, run `plan` on it; its outputs' (pointer, shape)."""
        image = np.ascontiguousarray(images.astype(plan.dtypes[IMAGE_INPUT], copy=False))
        pointer = self._input.ensure(image.nbytes)
        self.cuda.to_device(pointer, image.ctypes.data, image.nbytes, self.stream)
        plan.context.set_input_shape(IMAGE_INPUT, image.shape)
        plan.context.set_tensor_address(IMAGE_INPUT, pointer)
        bound = plan.bind_outputs()
        self._execute(plan)
        return bound

    def _run_one(self, images: np.ndarray) -> dict[str, np.ndarray]:
        first = self.plans[0]
        bound = self._run_on_images(first, images)
        if len(self.plans) == 2:
            renderer = self.plans[1]
            for name in LATENT_NAMES:
                pointer_in, shape = bound[name]
                if renderer.dtypes[name] != first.dtypes[name]:
                    raise BundleError(
                        f"{renderer.shown} expects {name} as {renderer.dtypes[name]} but "
                        f"{first.shown} produces {first.dtypes[name]}; "
                        f"rebuild both with `{REBUILD}`."
                    )
                renderer.context.set_input_shape(name, shape)
                renderer.context.set_tensor_address(name, pointer_in)
            bound = {**bound, **renderer.bind_outputs()}
            self._execute(renderer)
            dtypes = {**first.dtypes, **renderer.dtypes}
        else:
            dtypes = first.dtypes
        host = {}
        for name in OUTPUT_NAMES:
            pointer_out, shape = bound[name]
            array = np.empty(shape, dtype=dtypes[name])
            self.cuda.to_host(array.ctypes.data, pointer_out, array.nbytes, self.stream)
            host[name] = array
        self.cuda.synchronize(self.stream)
        for name in LATENT_NAMES + ("weights",):
            host[name] = host[name].astype(np.float32, copy=False)
        return host

    def _execute(self, plan: _Plan) -> None:
        if not plan.context.execute_async_v3(self._stream_handle):
            raise DeviceError(f"TensorRT failed to run {plan.shown}; see the TensorRT log above.")

    def run(self, images: np.ndarray) -> ModelOutput:
        # The pipeline calls this from its inference thread, whose current device is 0
        # until set; buffers are allocated here, so they must land on this GPU too.
        self.cuda.use_device()
        return run_in_chunks(self._run_one, images, self._max_batch, self._fixed)

    def _run_background_one(self, images: np.ndarray) -> dict[str, np.ndarray]:
        plan = self.background_plan
        if plan is None:
            raise BundleError(f"this bundle has no background plan; rebuild it with `{REBUILD}`.")
        bound = self._run_on_images(plan, images)
        host = {}
        for name in BACKGROUND_NAMES:
            pointer_out, shape = bound[name]
            array = np.empty(shape, dtype=plan.dtypes[name])
            self.cuda.to_host(array.ctypes.data, pointer_out, array.nbytes, self.stream)
            host[name] = array
        self.cuda.synchronize(self.stream)
        return host

    def run_background(self, images: np.ndarray) -> BackgroundOutput:
        """background.engine on frames already resized to its own size (uint8 RGB NCHW)."""
        if self.background_plan is None:
            raise BundleError(f"this bundle has no background plan; rebuild it with `{REBUILD}`.")
        self.cuda.use_device()  # called from the pipeline's inference thread too
        limit, fixed = self.background_plan.max_batch()
        return run_background_in_chunks(self._run_background_one, images, limit, fixed)

    def close(self) -> None:
        self.cuda.use_device()
        if self.background_plan is not None:
            self.background_plan.release()
        for plan in self.plans:
            plan.release()
        self._input.release()
        if self.stream is not None:
            self.cuda.destroy_stream(self.stream)
            self.stream = None
