"""ONNX Runtime against PyTorch for `background.onnx` (fixed-camera mode).

The reference is the trained `BackgroundModel.forward` on the same uint8 frames / 255.
The limit of each output follows from float32 arithmetic and the value's scale: the same
model run in float64 tells how far PyTorch's own float32 result is from exact
(`float32_error`); a second float32 implementation (other kernels, summation orders, FMA,
exp approximations) may stray a few times as far, so an output passes within
`export.parity.float32_limit`: 16 x max(float32_error, sqrt(n) u |value|), where n is the
model's longest sum and u = 2^-24 the unit roundoff, the rule the slot graphs follow too.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from export.errors import ExportError
from export.parity import float32_limit
from export.sample_images import sample_images
from export.spec import BACKGROUND, BatchPlan
from training.model import ASTSeg
from training.model.background import BackgroundModel


def accumulation_length(background: BackgroundModel, frame: torch.Tensor) -> int:
    """The longest sum the autoencoder makes on `frame` [1, 3, H, W]: a convolution's
    fan-in, a transposed convolution's fan-out (each output sums over it), or the pixels of
    one GroupNorm group (its mean and variance)."""
    longest = 1
    for module in background.modules():
        if isinstance(module, torch.nn.Conv2d | torch.nn.ConvTranspose2d):
            weight = module.weight
            receptive = weight[0, 0].numel()
            longest = max(longest, weight.shape[0] * receptive, weight.shape[1] * receptive)
    groups: list[int] = []

    def record(module: torch.nn.Module, args: tuple[torch.Tensor, ...], _: object) -> None:
        assert isinstance(module, torch.nn.GroupNorm)
        groups.append(args[0][0].numel() // module.num_groups)

    hooks = [
        m.register_forward_hook(record)
        for m in background.modules()
        if isinstance(m, torch.nn.GroupNorm)
    ]
    try:
        with torch.no_grad():
            background(frame)
    finally:
        for hook in hooks:
            hook.remove()
    return max([longest, *groups])


@dataclass
class BackgroundParity:
    """Worst differences of the background graph over the parity batch sizes; the same
    reading interface as `export.parity.GraphParity` (graph, max_abs, failures, to_dict)."""

    graph: str
    batch_sizes: tuple[int, ...]
    accumulation: int
    max_abs: dict[str, float] = field(default_factory=dict)
    float32_error: dict[str, float] = field(default_factory=dict)
    magnitude: dict[str, float] = field(default_factory=dict)
    segmentation_agreement: float | None = None  # no segmentation here

    def add(self, name: str, ours: np.ndarray, reference: np.ndarray, exact: np.ndarray) -> None:
        wide = reference.astype(np.float64)
        for table, value in (
            (self.max_abs, _max_abs(ours.astype(np.float64) - wide)),
            (self.float32_error, _max_abs(wide - exact)),
            (self.magnitude, _max_abs(exact)),
        ):
            table[name] = max(table.get(name, 0.0), value)

    def limit(self, name: str) -> float:
        return float32_limit(
            self.float32_error.get(name, 0.0), self.magnitude.get(name, 0.0), self.accumulation
        )

    def failures(self) -> list[str]:
        return [
            f"{self.graph} {name} differs by {value:.3g} (limit {self.limit(name):.3g})"
            for name, value in self.max_abs.items()
            if not value <= self.limit(name)  # NaN fails too
        ]

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {f"max_abs_{k}": v for k, v in self.max_abs.items()}
        data["limits"] = {f"max_abs_{k}": self.limit(k) for k in self.max_abs}
        data["float32_error"] = dict(self.float32_error)
        return data


def _max_abs(values: np.ndarray) -> float:
    return float(np.max(np.abs(values))) if values.size else 0.0


def _run(session: ort.InferenceSession, images: np.ndarray) -> dict[str, np.ndarray]:
    names = [o.name for o in session.get_outputs()]
    try:
        return dict(zip(names, session.run(names, {"image": images}), strict=True))
    except Exception as err:  # onnxruntime raises its own exception types per failure
        first = str(err).strip().splitlines()[0][:300]
        raise ExportError(f"ONNX Runtime failed to run background.onnx ({first})") from None


def measure_background_parity(model: ASTSeg, path: Path, batch: BatchPlan) -> BackgroundParity:
    """background.onnx against `model.background` (float32, and float64 for the limits) at
    every size of `batch.parity_sizes`, on scenes at the background model's size."""
    height, width = model.config.background_size
    sizes = batch.parity_sizes
    images_all = sample_images(max(sizes), height, width, seed=2)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:
        first = str(err).strip().splitlines()[0][:300]
        raise ExportError(f"ONNX Runtime cannot load '{path.name}' ({first})") from None
    reference = model.background.eval()
    exact_model = copy.deepcopy(reference).double()
    first = torch.from_numpy(images_all[:1]).float() / 255.0
    check = BackgroundParity("background", sizes, accumulation_length(reference, first))
    for size in sizes:
        images = images_all[:size]
        frames = torch.from_numpy(images)
        with torch.no_grad():
            ours32 = reference(frames.float() / 255.0)
            ours64 = exact_model(frames.double() / 255.0)
        got = _run(session, images)
        for name, value32, value64 in zip(BACKGROUND, ours32, ours64, strict=True):
            check.add(name, got[name], value32.numpy(), value64.numpy())
    return check
