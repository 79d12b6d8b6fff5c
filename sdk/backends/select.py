"""Pick the backend: what the user asked for, or with "auto" the fastest that works here.

"auto" tries the bundle's native TensorRT plans first (when tensorrt, cuda-python
and a GPU are present and the plans were built for this GPU), then ONNX Runtime
with its fastest provider. It logs the choice, and why a faster one was skipped,
so nobody benchmarks the CPU path by accident.
"""

from __future__ import annotations

import logging

from sdk.backends.base import Backend
from sdk.bundle.bundle import Bundle
from sdk.errors import AstsegError

log = logging.getLogger("astseg")

BACKENDS = ("auto", "onnxruntime", "tensorrt")


def parse_device(device: str | int) -> tuple[str, int]:
    """'auto', 'cpu', 'cuda', 'cuda:N' or an int N -> (kind, index)."""
    if isinstance(device, int) and not isinstance(device, bool):
        if device < 0:
            raise ValueError(f"device {device} is negative; use 'cpu', 'cuda' or 'cuda:N'.")
        return "cuda", device
    text = str(device).strip().lower()
    if text in ("auto", "cpu", "cuda"):
        return text, 0
    if text.startswith("cuda:") and text[5:].isdigit():
        return "cuda", int(text[5:])
    raise ValueError(f"device {device!r} is not one of 'auto', 'cpu', 'cuda' or 'cuda:N'.")


def open_backend(
    bundle: Bundle, backend: str = "auto", device: str | int = "auto", threads: int | None = None
) -> Backend:
    """Open the requested backend; errors a user can fix are AstsegError sentences."""
    kind, index = parse_device(device)
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}.")
    if backend == "tensorrt" and kind == "cpu":
        raise ValueError(
            "backend 'tensorrt' needs a GPU; use device='cuda' or backend='onnxruntime'."
        )
    chosen: Backend
    if backend == "tensorrt":
        from sdk.backends.tensorrt_plan import TensorRtBackend

        chosen = TensorRtBackend(bundle, device_index=index)
    elif backend == "auto" and kind != "cpu" and _plans_cover(bundle):
        chosen = _try_tensorrt(bundle, index) or _onnxruntime(bundle, kind, index, threads)
    else:
        chosen = _onnxruntime(bundle, kind, index, threads)
    log.info("astseg: running %s with %s", bundle.name, chosen.description)
    return chosen


def _plans_cover(bundle: Bundle) -> bool:
    """Whether the bundle has TensorRT plans, including one for its background graph if any."""
    engines = bundle.manifest.engines
    if not engines:
        return False
    if bundle.manifest.background is not None and "background" not in engines:
        log.warning(
            "astseg: not using the bundle's TensorRT plans: they lack its background graph "
            "(rebuild them with --trt); running ONNX Runtime"
        )
        return False
    return True


def _try_tensorrt(bundle: Bundle, index: int) -> Backend | None:
    from sdk.backends.tensorrt_plan import TensorRtBackend

    try:
        return TensorRtBackend(bundle, device_index=index)
    except AstsegError as err:
        log.warning("astseg: not using the bundle's TensorRT plans: %s", err)
        return None


def _onnxruntime(bundle: Bundle, kind: str, index: int, threads: int | None) -> Backend:
    from sdk.backends.onnx_runtime import OnnxRuntimeBackend

    return OnnxRuntimeBackend(bundle, device_kind=kind, device_index=index, threads=threads)
