"""Checkpoint -> ONNX -> TensorRT, with parity checks, written as a model bundle."""
