"""ONNX Runtime (CPU) against PyTorch on the same inputs: the proof an export is faithful.

The reference is the trained model's own `SlotEncoder.forward` and `Renderer.forward`,
not the export wrappers, so a wrapper that drifted from training would fail here.
Each graph is checked alone (the renderer on PyTorch's latents) and as the runtime
chains them (ONNX encoder -> ONNX renderer), at every size of `BatchPlan.parity_sizes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from export.errors import ExportError
from export.sample_images import sample_images
from export.spec import LATENTS, BatchPlan
from training.model import ASTSeg

TOLERANCES = {"position": 1e-4, "scale": 1e-4, "log_activation": 1e-4, "weights": 1e-4}
MIN_SEGMENTATION_AGREEMENT = 0.999


@dataclass
class GraphParity:
    """Worst differences of one graph (or chain) over all parity batch sizes."""

    graph: str
    batch_sizes: tuple[int, ...]
    max_abs: dict[str, float] = field(default_factory=dict)
    equal_pixels: int = 0
    total_pixels: int = 0

    @property
    def segmentation_agreement(self) -> float | None:
        return self.equal_pixels / self.total_pixels if self.total_pixels else None

    def add(self, name: str, ours: np.ndarray, reference: np.ndarray) -> None:
        if name == "segmentation":
            self.equal_pixels += int(np.count_nonzero(ours == reference))
            self.total_pixels += int(reference.size)
            return
        diff = float(np.max(np.abs(ours.astype(np.float64) - reference.astype(np.float64))))
        self.max_abs[name] = max(self.max_abs.get(name, 0.0), diff)

    def failures(self) -> list[str]:
        out = [
            f"{self.graph} {name} differs by {self.max_abs[name]:.3g} (limit {limit:g})"
            for name, limit in TOLERANCES.items()
            if name in self.max_abs and not self.max_abs[name] <= limit  # NaN fails too
        ]
        agreement = self.segmentation_agreement
        if agreement is not None and agreement < MIN_SEGMENTATION_AGREEMENT:
            out.append(
                f"{self.graph} segmentation agrees on {agreement:.4%} of pixels "
                f"(needs {MIN_SEGMENTATION_AGREEMENT:.1%})"
            )
        return out

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {f"max_abs_{k}": v for k, v in self.max_abs.items()}
        if self.segmentation_agreement is not None:
            data["segmentation_agreement"] = self.segmentation_agreement
        return data


@dataclass
class ParityReport:
    batch_sizes: tuple[int, ...]
    checks: list[GraphParity]

    def failures(self) -> list[str]:
        return [f for check in self.checks for f in check.failures()]

    def worst(self, name: str) -> float:
        return max((c.max_abs[name] for c in self.checks if name in c.max_abs), default=0.0)

    def segmentation_agreement(self) -> float:
        values = [c.segmentation_agreement for c in self.checks]
        return min((v for v in values if v is not None), default=1.0)

    def to_manifest(self) -> dict[str, object]:
        """The manifest's `parity`: worst figures first, then each graph's own."""
        summary: dict[str, object] = {"batch_sizes": list(self.batch_sizes)}
        for name in (*LATENTS, "weights"):
            summary[f"max_abs_{name}"] = self.worst(name)
        summary["segmentation_agreement"] = self.segmentation_agreement()
        summary["tolerances"] = {
            **{f"max_abs_{k}": v for k, v in TOLERANCES.items()},
            "segmentation_agreement": MIN_SEGMENTATION_AGREEMENT,
        }
        summary["runtime"] = f"onnxruntime {ort.__version__} CPUExecutionProvider"
        summary["graphs"] = {c.graph: c.to_dict() for c in self.checks}
        return summary


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only; warnings about unused initialisers are noise
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own exception types per failure
        first = str(err).strip().splitlines()[0][:300]
        raise ExportError(f"ONNX Runtime cannot load '{path.name}' ({first})") from None


def _run(session: ort.InferenceSession, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    names = [o.name for o in session.get_outputs()]
    try:
        return dict(zip(names, session.run(names, feeds), strict=True))
    except Exception as err:
        first = str(err).strip().splitlines()[0][:300]
        raise ExportError(f"ONNX Runtime failed to run the exported graph ({first})") from None


def _reference(model: ASTSeg, images: np.ndarray) -> dict[str, np.ndarray]:
    with torch.no_grad():
        latents = model.encoder(torch.from_numpy(images).float() / 255.0)
        rendering = model.renderer(latents)
    tensors = {
        "position": latents.position,
        "scale": latents.scale,
        "log_activation": latents.log_activation,
        "z_what": latents.z_what,
        "weights": rendering.weights,
        "segmentation": rendering.segmentation(),
    }
    return {k: v.detach().cpu().numpy() for k, v in tensors.items()}


def measure_parity(model: ASTSeg, graphs: dict[str, Path], batch: BatchPlan) -> ParityReport:
    """Runs every graph in `graphs` (by name) and the encoder -> renderer chain."""
    cfg = model.config
    sizes = batch.parity_sizes
    images_all = sample_images(max(sizes), cfg.image_height, cfg.image_width)
    sessions = {name: _session(path) for name, path in graphs.items()}
    checks = {name: GraphParity(name, sizes) for name in (*graphs, "pipeline")}
    model.eval()
    for size in sizes:
        images = images_all[:size]
        ref = _reference(model, images)
        latents = {name: ref[name] for name in LATENTS}
        encoded = _run(sessions["encoder"], {"image": images})
        outputs = {
            "encoder": encoded,
            "renderer": _run(sessions["renderer"], latents),
            "pipeline": _run(sessions["renderer"], {n: encoded[n] for n in LATENTS}),
        }
        if "segmenter" in sessions:
            outputs["segmenter"] = _run(sessions["segmenter"], {"image": images})
        for graph, values in outputs.items():
            for name, value in values.items():
                checks[graph].add(name, value, ref[name])
    return ParityReport(sizes, list(checks.values()))


def require_parity(report: ParityReport) -> None:
    failures = report.failures()
    if failures:
        raise ExportError(
            "the exported graphs do not reproduce the PyTorch model: "
            + "; ".join(failures)
            + "; the export was stopped and nothing was written"
        )
