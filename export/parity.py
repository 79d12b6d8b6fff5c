"""ONNX Runtime (CPU) against PyTorch on the same inputs: the proof an export is faithful.

The reference is the trained model's own `SlotEncoder.forward` and `Renderer.forward`,
not the export wrappers, so a wrapper that drifted from training would fail here.
Each graph is checked alone (the renderer on PyTorch's latents) and as the runtime
chains them (ONNX encoder -> ONNX renderer), at every size of `BatchPlan.parity_sizes`.

Limits come from float32 arithmetic, per graph and output, never from one machine's
figures. The same model is also run in float64: the float32 reference's distance from it
(`float32_error`) is what float32 rounding does to this value through this model's depth
and conditioning (the renderer turns 2-ulp latent differences into ~1e-4 layer weights
near glimpse edges). A second float32 implementation (ONNX Runtime with other kernels,
summation orders, FMA, exp/erf approximations) may be off by a few times as much, so an
output passes within `IMPLEMENTATION_FACTOR` x max(float32_error, sqrt(n) u |value|), the
second term being the typical rounding of the model's longest sum (n terms, u = 2^-24) for
values PyTorch happened to get almost exact. The segmentation is an argmax: a pixel may take
another label only where the reference's weights for the two labels are within twice the
weights limit (a near-tie); any other differing pixel is an export error.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from export.errors import ExportError
from export.sample_images import sample_images
from export.spec import LATENTS, BatchPlan
from training.model import ASTSeg
from training.model.latents import SlotLatents

EPS32 = float(np.finfo(np.float32).eps)  # 2^-23: one unit in the last place at 1.0
UNIT_ROUNDOFF = EPS32 / 2  # the most one float32 rounding changes a value, relatively
# How far a second float32 implementation may stray, in units of PyTorch's own rounding
# error: |ORT - torch32| <= |ORT - exact| + |torch32 - exact|, the first up to a few times
# the second (other summation orders, polynomial exp/erf of a few ulp), times 2 for a worst
# element landing elsewhere. 16 leaves ~8x over the 1.6e-4 an AMD EPYC gave (DESIGN §7).
IMPLEMENTATION_FACTOR = 16.0
CHECKED = (*LATENTS, "weights")
# The least magnitude an output's rounding is measured against: positions are coordinates
# on [-1, 1] summed by the soft-argmax, so a position near 0 is still rounded at that scale.
SCALE_FLOOR = {"position": 1.0}


def accumulation_length(model: ASTSeg) -> int:
    """The longest sum the model makes: the soft-argmax and pooling over every pixel of the
    map, or a layer's fan-in or fan-out (a transposed convolution sums over its fan-out)."""
    cfg = model.config
    longest = cfg.image_height * cfg.image_width
    for parameter in model.foreground_parameters():  # the exported part: encoder, renderer
        if parameter.dim() >= 2:
            receptive = parameter[0, 0].numel()
            longest = max(longest, parameter.shape[0] * receptive, parameter.shape[1] * receptive)
    return int(longest)


def float32_limit(float32_error: float, magnitude: float, accumulation: int) -> float:
    """The most a faithful float32 implementation may differ from PyTorch's float32 result:
    16 x PyTorch's own error, or 16 x the typical rounding of a sum of `accumulation` terms
    of this magnitude (sqrt(n) u |x|) where float32 happened to be almost exact."""
    floor = np.sqrt(accumulation) * UNIT_ROUNDOFF * magnitude
    return float(IMPLEMENTATION_FACTOR * max(float32_error, floor))


@dataclass
class TensorParity:
    """One output of one graph: worst difference, and what float32 explains of it."""

    max_abs: float = 0.0  # ONNX Runtime vs PyTorch float32
    float32_error: float = 0.0  # PyTorch float32 vs PyTorch float64
    magnitude: float = 0.0  # largest |value|
    accumulation: int = 1  # the model's longest sum

    @property
    def limit(self) -> float:
        return float32_limit(self.float32_error, self.magnitude, self.accumulation)


@dataclass
class GraphParity:
    """Worst differences of one graph (or chain) over all parity batch sizes."""

    graph: str
    batch_sizes: tuple[int, ...]
    accumulation: int = 1
    tensors: dict[str, TensorParity] = field(default_factory=dict)
    equal_pixels: int = 0
    total_pixels: int = 0
    # Over the pixels whose label differs: the largest gap between the reference's weights
    # for its label and for ours (inf for a label the reference does not have).
    flip_margin: float = 0.0

    @property
    def max_abs(self) -> dict[str, float]:
        return {name: t.max_abs for name, t in self.tensors.items()}

    @property
    def segmentation_agreement(self) -> float | None:
        return self.equal_pixels / self.total_pixels if self.total_pixels else None

    def add(
        self,
        name: str,
        ours: np.ndarray,
        reference: np.ndarray,
        exact: np.ndarray | None = None,
        reference_weights: np.ndarray | None = None,
    ) -> None:
        """`exact`: the float64 run of the same value; `reference_weights` for a segmentation."""
        if name == "segmentation":
            differs = ours != reference
            self.equal_pixels += int(differs.size - np.count_nonzero(differs))
            self.total_pixels += int(reference.size)
            if reference_weights is not None and differs.any():
                self.flip_margin = max(
                    self.flip_margin, _flip_margin(ours, reference, reference_weights)
                )
            return
        tensor = self.tensors.setdefault(name, TensorParity(accumulation=self.accumulation))
        wide = reference.astype(np.float64)
        tensor.max_abs = max(tensor.max_abs, _max_abs(ours.astype(np.float64) - wide))
        if exact is not None:
            tensor.float32_error = max(tensor.float32_error, _max_abs(wide - exact))
            tensor.magnitude = max(tensor.magnitude, SCALE_FLOOR.get(name, 0.0), _max_abs(exact))

    def failures(self) -> list[str]:
        out = [
            f"{self.graph} {name} differs by {t.max_abs:.3g} (limit {t.limit:.3g})"
            for name, t in self.tensors.items()
            if not t.max_abs <= t.limit  # NaN fails too
        ]
        agreement = self.segmentation_agreement
        weights = self.tensors.get("weights")
        if agreement is not None and weights is not None:
            tie = 2 * weights.limit
            if not self.flip_margin <= tie:
                out.append(
                    f"{self.graph} segmentation agrees on {agreement:.4%} of pixels, and some that "
                    f"differ are not near-ties (reference weights {self.flip_margin:.3g} apart, "
                    f"ties are within {tie:.3g})"
                )
        return out

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {f"max_abs_{k}": t.max_abs for k, t in self.tensors.items()}
        data.update({f"limit_{k}": t.limit for k, t in self.tensors.items() if t.magnitude})
        data.update(
            {f"float32_error_{k}": t.float32_error for k, t in self.tensors.items() if t.magnitude}
        )
        if self.segmentation_agreement is not None:
            data["segmentation_agreement"] = self.segmentation_agreement
        return data


def _max_abs(values: np.ndarray) -> float:
    return float(np.max(np.abs(values))) if values.size else 0.0


def _flip_margin(ours: np.ndarray, reference: np.ndarray, weights: np.ndarray) -> float:
    """Largest w_ref[reference label] - w_ref[our label] over the pixels whose labels differ."""
    differs = ours != reference
    labels = weights.shape[1]
    if np.any((ours[differs] < 0) | (ours[differs] >= labels)):
        return float("inf")
    taken = np.take_along_axis(weights, reference[:, None], axis=1)[:, 0]
    given = np.take_along_axis(weights, np.clip(ours, 0, labels - 1)[:, None], axis=1)[:, 0]
    return float(np.max((taken - given)[differs]))


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
        """The manifest's `parity`: worst figures first, then each graph's own with its limits."""
        summary: dict[str, object] = {"batch_sizes": list(self.batch_sizes)}
        for name in CHECKED:
            summary[f"max_abs_{name}"] = self.worst(name)
        summary["segmentation_agreement"] = self.segmentation_agreement()
        summary["tolerances"] = {
            "rule": "per graph and output: max_abs <= factor x max(float32_error, "
            "sqrt(accumulation) x unit_roundoff x max|value|), float32_error = PyTorch float32 "
            "vs float64 on the same scenes",
            "factor": IMPLEMENTATION_FACTOR,
            "unit_roundoff": UNIT_ROUNDOFF,
            "accumulation": max((c.accumulation for c in self.checks), default=1),
            "segmentation": "a pixel may differ only where the reference's weights for the two "
            "labels are within 2 x the weights limit",
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


def _reference(model: ASTSeg, images: np.ndarray, dtype: torch.dtype) -> dict[str, np.ndarray]:
    """The model's outputs on uint8 `images`, computed in `dtype`."""
    with torch.no_grad():
        latents = model.encoder(torch.from_numpy(images).to(dtype) / 255.0)
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


def _render_float64(model64: ASTSeg, latents: dict[str, np.ndarray]) -> np.ndarray:
    """float64 layer weights of the given (float32) latents: the renderer alone's exact answer."""
    wide = {name: torch.from_numpy(latents[name]).double() for name in LATENTS}
    with torch.no_grad():
        return model64.renderer(SlotLatents(**wide)).weights.numpy()


def measure_parity(model: ASTSeg, graphs: dict[str, Path], batch: BatchPlan) -> ParityReport:
    """Runs every graph in `graphs` (by name) and the encoder -> renderer chain."""
    cfg = model.config
    sizes = batch.parity_sizes
    images_all = sample_images(max(sizes), cfg.image_height, cfg.image_width)
    sessions = {name: _session(path) for name, path in graphs.items()}
    longest = accumulation_length(model)
    checks = {name: GraphParity(name, sizes, longest) for name in (*graphs, "pipeline")}
    model.eval()
    model64 = copy.deepcopy(model).double().eval()
    for size in sizes:
        images = images_all[:size]
        ref = _reference(model, images, torch.float32)
        exact = _reference(model64, images, torch.float64)
        latents = {name: ref[name] for name in LATENTS}
        # The renderer alone is fed PyTorch's float32 latents; its exact answer is for those.
        exact_alone = {**exact, "weights": _render_float64(model64, latents)}
        encoded = _run(sessions["encoder"], {"image": images})
        outputs = {
            "encoder": encoded,
            "renderer": _run(sessions["renderer"], latents),
            "pipeline": _run(sessions["renderer"], {n: encoded[n] for n in LATENTS}),
        }
        if "segmenter" in sessions:
            outputs["segmenter"] = _run(sessions["segmenter"], {"image": images})
        for graph, values in outputs.items():
            truth = exact_alone if graph == "renderer" else exact
            for name, value in values.items():
                checks[graph].add(name, value, ref[name], truth[name], ref["weights"])
    return ParityReport(sizes, list(checks.values()))


def require_parity(report: ParityReport) -> None:
    failures = report.failures()
    if failures:
        raise ExportError(
            "the exported graphs do not reproduce the PyTorch model: "
            + "; ".join(failures)
            + "; the export was stopped and nothing was written"
        )
