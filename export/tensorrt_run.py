"""Run a freshly built plan on torch CUDA tensors: engine parity at export, GPU tests, benchmarks.

The deployed runtime (`sdk`) runs plans without torch; this is the exporter's own
check that a plan computes what the ONNX graph does, on the machine that built it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from export.errors import ExportError
from export.tensorrt_build import import_tensorrt


class EngineRunner:
    """One deserialised plan with one execution context (TensorRT 10/11 tensor API)."""

    def __init__(self, plan: Path | bytes) -> None:
        self.trt = trt = import_tensorrt()
        if not torch.cuda.is_available():
            raise ExportError("running a TensorRT plan here needs torch with CUDA")
        data = plan.read_bytes() if isinstance(plan, Path) else plan
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        self.engine = self.runtime.deserialize_cuda_engine(data)
        if self.engine is None:
            raise ExportError("TensorRT could not deserialise the plan (built elsewhere?)")
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        mode = trt.TensorIOMode.INPUT
        self.inputs = [n for n in names if self.engine.get_tensor_mode(n) == mode]
        self.outputs = [n for n in names if self.engine.get_tensor_mode(n) != mode]
        self._dtypes: dict[Any, torch.dtype] = {
            trt.float32: torch.float32,
            trt.float16: torch.float16,
            trt.int32: torch.int32,
            trt.int64: torch.int64,
            trt.uint8: torch.uint8,
            trt.bool: torch.bool,
        }

    def __call__(self, feeds: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        keep = []
        for name in self.inputs:
            tensor = feeds[name].cuda().contiguous()
            keep.append(tensor)  # alive until the stream has run
            self.context.set_input_shape(name, tuple(tensor.shape))
            self.context.set_tensor_address(name, tensor.data_ptr())
        results = {}
        for name in self.outputs:
            shape = tuple(self.context.get_tensor_shape(name))
            dtype = self._dtypes[self.engine.get_tensor_dtype(name)]
            results[name] = torch.empty(shape, dtype=dtype, device="cuda")
            self.context.set_tensor_address(name, results[name].data_ptr())
        stream = torch.cuda.current_stream()
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise ExportError("TensorRT failed to execute the plan")
        stream.synchronize()
        return results

    def run_numpy(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = self({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in feeds.items()})
        return {k: v.cpu().numpy() for k, v in out.items()}
