"""What every backend takes and returns, so the Segmenter does not care which one runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

LATENT_NAMES = ("position", "scale", "log_activation", "z_what")
RENDER_NAMES = ("weights", "segmentation")
OUTPUT_NAMES = LATENT_NAMES + RENDER_NAMES
IMAGE_INPUT = "image"
BACKGROUND_NAMES = ("background", "noise")


@dataclass
class ModelOutput:
    """The graphs' outputs for a batch of N images (docs/bundle-format.md)."""

    position: np.ndarray  # float32 [N, K, 2], x then y, in [-1, 1]
    scale: np.ndarray  # float32 [N, K, S], inverse scale
    log_activation: np.ndarray  # float32 [N, K]
    z_what: np.ndarray  # float32 [N, K, Z]
    weights: np.ndarray  # float32 [N, K+1, H, W], layer 0 = background
    segmentation: np.ndarray  # int [N, H, W], 0 = background, k = slot k-1

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> ModelOutput:
        return cls(**{name: arrays[name] for name in OUTPUT_NAMES})

    def __len__(self) -> int:
        return int(self.position.shape[0])


@dataclass
class BackgroundOutput:
    """background.onnx's outputs for N frames at its own size Hb×Wb (docs/bundle-format.md)."""

    background: np.ndarray  # float32 [N, 3, Hb, Wb], RGB in [0, 1]
    noise: np.ndarray  # float32 [N, 1, Hb, Wb] in [0, 1]: the predicted error / 3


class Backend(Protocol):
    """Runs a uint8 RGB NCHW batch through the bundle's graphs."""

    name: str  # "onnxruntime" or "tensorrt"
    description: str  # one line for logs: engine, providers, threads, graphs used

    has_background: bool  # whether run_background can run (the bundle's background graph)

    def run(self, images: np.ndarray) -> ModelOutput: ...

    def run_background(self, images: np.ndarray) -> BackgroundOutput: ...

    def close(self) -> None: ...


def run_background_in_chunks(
    run_one: Callable[[np.ndarray], dict[str, np.ndarray]],
    images: np.ndarray,
    max_batch: int,
    fixed_batch: bool,
) -> BackgroundOutput:
    """`run_in_chunks` for the background graph: same splitting and padding rules."""
    parts = [
        _run_padded(run_one, images[start : start + max_batch], max_batch, fixed_batch)
        for start in range(0, images.shape[0], max_batch)
    ]
    joined = {name: np.concatenate([p[name] for p in parts], axis=0) for name in BACKGROUND_NAMES}
    return BackgroundOutput(
        background=joined["background"].astype(np.float32, copy=False),
        noise=joined["noise"].astype(np.float32, copy=False),
    )


def _run_padded(
    run_one: Callable[[np.ndarray], dict[str, np.ndarray]],
    chunk: np.ndarray,
    max_batch: int,
    fixed_batch: bool,
) -> dict[str, np.ndarray]:
    real = chunk.shape[0]
    if fixed_batch and real < max_batch:
        chunk = np.concatenate([chunk, np.repeat(chunk[-1:], max_batch - real, axis=0)], axis=0)
    return {k: v[:real] for k, v in run_one(np.ascontiguousarray(chunk)).items()}


def run_in_chunks(
    run_one: Callable[[np.ndarray], dict[str, np.ndarray]],
    images: np.ndarray,
    max_batch: int,
    fixed_batch: bool,
) -> ModelOutput:
    """Split a batch to what a graph accepts; pad a fixed-size batch with copies of its last image.

    Padding rather than refusing lets a graph exported with a fixed batch of 4 still
    serve a single webcam frame; the padded results are dropped before returning.
    """
    n = images.shape[0]
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, n, max_batch):
        chunk = images[start : start + max_batch]
        real = chunk.shape[0]
        if fixed_batch and real < max_batch:
            pad = np.repeat(chunk[-1:], max_batch - real, axis=0)
            chunk = np.concatenate([chunk, pad], axis=0)
        out = run_one(np.ascontiguousarray(chunk))
        parts.append({k: v[:real] for k, v in out.items()})
    if len(parts) == 1:
        return ModelOutput.from_arrays(parts[0])
    return ModelOutput.from_arrays(
        {name: np.concatenate([p[name] for p in parts], axis=0) for name in OUTPUT_NAMES}
    )
