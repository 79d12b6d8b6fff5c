"""The GPU a TensorRT plan is built for: its name and compute capability.

Read through torch when it has CUDA (the export environment has torch), else
through cuda-python, whose runtime module moved to `cuda.bindings.runtime` in
cuda-python 13. The name is the CUDA driver's own string, the same one the
runtime's sidecar check compares against.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from export.errors import ExportError
from sdk.backends.cuda_runtime import import_cudart
from sdk.errors import DeviceError


@dataclass(frozen=True)
class GpuInfo:
    name: str
    compute_capability: str  # "major.minor", e.g. "8.9"


def _cudart() -> ModuleType | None:
    try:
        return import_cudart()
    except DeviceError:
        return None


def _from_torch() -> GpuInfo | None:
    import torch

    if not torch.cuda.is_available():
        return None
    major, minor = torch.cuda.get_device_capability(0)
    return GpuInfo(torch.cuda.get_device_name(0), f"{major}.{minor}")


def _from_cuda_python() -> GpuInfo | None:
    rt = _cudart()
    if rt is None:
        return None
    err, count = rt.cudaGetDeviceCount()
    if err != rt.cudaError_t.cudaSuccess or count < 1:
        return None
    err, prop = rt.cudaGetDeviceProperties(0)
    if err != rt.cudaError_t.cudaSuccess:
        return None
    name = prop.name.decode(errors="replace") if isinstance(prop.name, bytes) else str(prop.name)
    return GpuInfo(name.rstrip("\x00").strip(), f"{prop.major}.{prop.minor}")


def current_gpu() -> GpuInfo:
    """GPU 0, the one TensorRT builds for; an ExportError when none is visible."""
    info = _from_torch() or _from_cuda_python()
    if info is None:
        raise ExportError(
            "--trt needs a CUDA GPU, and none is visible to torch or cuda-python on this "
            "machine; build engines on the deployment GPU, or export without --trt"
        )
    return info
