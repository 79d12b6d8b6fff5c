"""The graph interfaces of docs/bundle-format.md and the batch sizes an export serves.

Everything downstream (ONNX checks, parity, TensorRT profiles, Triton configs)
reads shapes and names from here, so the contract is written down once.
"""

from __future__ import annotations

from dataclasses import dataclass

from export.errors import ExportError
from sdk.bundle.manifest import BatchSpec
from training.config import ModelConfig

IMAGE = "image"
LATENTS = ("position", "scale", "log_activation", "z_what")
RENDERING = ("weights", "segmentation")
BACKGROUND = ("background", "noise")
BATCH_DIM = "batch"  # the symbolic name of a dynamic batch axis in the ONNX graphs


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str  # numpy dtype name: "uint8", "float32" or "int64"
    shape: tuple[int, ...]  # without the batch axis, which always comes first


@dataclass(frozen=True)
class GraphSpec:
    name: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    @property
    def file_name(self) -> str:
        return f"{self.name}.onnx"


class BatchPlan(BatchSpec):
    """A fixed batch (min = opt = max) or a dynamic one from `min` to `max`: the manifest's
    `batch`, and the sizes export traces and proves parity at."""

    @classmethod
    def fixed(cls, size: int) -> BatchPlan:
        if size < 1:
            raise ExportError(f"--batch must be at least 1, got {size}")
        return cls(dynamic=False, min=size, opt=size, max=size)

    @classmethod
    def dynamic_up_to(cls, max_batch: int) -> BatchPlan:
        if max_batch < 2:
            raise ExportError(f"--max-batch must be at least 2 with --dynamic, got {max_batch}")
        return cls(dynamic=True, min=1, opt=1, max=max_batch)

    @property
    def trace_size(self) -> int:
        """Batch used for tracing: 2 for dynamic graphs, so no axis is mistaken for a 1."""
        return 2 if self.dynamic else self.max

    @property
    def parity_sizes(self) -> tuple[int, ...]:
        """Two sizes for a dynamic graph (fixed-dimension export bugs show at the second)."""
        return (1, min(3, self.max)) if self.dynamic else (self.max,)


def latent_specs(model: ModelConfig) -> tuple[TensorSpec, ...]:
    k = model.num_slots
    return (
        TensorSpec("position", "float32", (k, 2)),
        TensorSpec("scale", "float32", (k, model.scale_dim)),
        TensorSpec("log_activation", "float32", (k,)),
        TensorSpec("z_what", "float32", (k, model.z_what_dim)),
    )


def background_spec(model: ModelConfig) -> GraphSpec:
    """Fixed-camera mode: the frame at the background model's own size -> its background
    (RGB in [0, 1]) and predicted noise (the fourth channel, e/3 in [0, 1])."""
    h, w = model.background_size
    return GraphSpec(
        "background",
        (TensorSpec(IMAGE, "uint8", (3, h, w)),),
        (
            TensorSpec("background", "float32", (3, h, w)),
            TensorSpec("noise", "float32", (1, h, w)),
        ),
    )


def graph_specs(model: ModelConfig, fused: bool, background: bool = False) -> list[GraphSpec]:
    """The encoder and renderer, the fused segmenter when asked for, and the background
    graph when the bundle carries one."""
    h, w, k = model.image_height, model.image_width, model.num_slots
    image = (TensorSpec(IMAGE, "uint8", (3, h, w)),)
    latents = latent_specs(model)
    rendering = (
        TensorSpec("weights", "float32", (k + 1, h, w)),
        TensorSpec("segmentation", "int64", (h, w)),
    )
    specs = [GraphSpec("encoder", image, latents), GraphSpec("renderer", latents, rendering)]
    if fused:
        specs.append(GraphSpec("segmenter", image, latents + rendering))
    if background:
        specs.append(background_spec(model))
    return specs
