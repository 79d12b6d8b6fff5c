"""Inference backends: ONNX Runtime (CPU, CUDA, TensorRT providers) and native TensorRT plans."""

from sdk.backends.base import Backend, ModelOutput
from sdk.backends.select import open_backend, parse_device

__all__ = ["Backend", "ModelOutput", "open_backend", "parse_device"]
