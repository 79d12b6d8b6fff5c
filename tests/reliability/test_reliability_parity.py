"""Export parity judges float32 arithmetic, not one CPU's kernels (issue 14).

The graphs are exported from a copy of the model that is altered the way another CPU's
kernels alter the arithmetic (must pass) or the way an export bug would (must fail), and
compared with the unaltered model, as `astseg export` does.

The arithmetic of "the way another CPU's kernels alter it": a dot product of length n summed
in another order, or with FMA, differs by up to n·u·Σ|aᵢbᵢ| (u = 2⁻²⁴) and typically by
√n·u; polynomial exp/erf differ by a few ulp. On these models that is ~2 ulp (2.4e-7) in the
latents (measured here, AMD EPYC), and the renderer multiplies a latent error by ~700 near a
glimpse edge, where a small mask meets a small background activation: 1.6e-4 in the layer
weights. The float64 run of the same model shows the same gain (its float32 error in the
weights is 8.8e-5), so the limits follow it. Rounding every weight of the graph differently by
4 ulp, and multiplying the layer weights by 1 + 2e-4 (the AMD figure plus a margin), are
therefore kernel-sized changes; a 0.1 % error in one tensor, swapped colour channels, a
placement grid off by one pixel or one pixel's label changed are not.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import helper, numpy_helper

from export.errors import ExportError
from export.onnx_export import export_graph
from export.parity import ParityReport, measure_parity, require_parity
from export.sample_images import sample_images
from export.spec import BatchPlan, graph_specs
from training.config import ModelConfig
from training.model import ASTSeg

PLAN = BatchPlan.fixed(2)


@pytest.fixture(scope="module")
def model() -> ASTSeg:
    """tests/export's shared Segformer model (48x80, K = 3, wide glimpses, low α₀): the one
    whose export failed on an AMD EPYC."""
    torch.manual_seed(0)
    config = ModelConfig(
        image_height=48, image_width=80, num_slots=3, backbone=None,
        segformer_overrides={
            "hidden_sizes": [8, 16, 24, 32], "depths": [1, 1, 1, 1],
            "num_attention_heads": [1, 1, 1, 1], "decoder_hidden_size": 32,
        },
        transformer_dim=32, transformer_heads=2, transformer_ff_dim=64, transformer_layers=2,
        transformer_dropout=0.0, z_what_dim=8, glimpse_size=16, s_max=4.0,
        log_background_activation=-4.0,
    )  # fmt: skip
    return ASTSeg(config).eval()


def _export(model: ASTSeg, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    cfg = model.config
    images = torch.from_numpy(sample_images(2, cfg.image_height, cfg.image_width, seed=1))
    paths = {}
    for spec in graph_specs(cfg, fused=True):
        paths[spec.name] = folder / spec.file_name
        export_graph(model, spec, PLAN, images, paths[spec.name])
    return paths


def _altered(model: ASTSeg, change: Callable[[ASTSeg], None]) -> ASTSeg:
    other = copy.deepcopy(model)
    with torch.no_grad():
        change(other)
    return other


@pytest.fixture(scope="module")
def faithful(model: ASTSeg, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _export(model, tmp_path_factory.mktemp("faithful"))


def _scale_output(paths: dict[str, Path], folder: Path, output: str, factor: float) -> None:
    """Every graph that has `output` now returns it times `factor` (a Mul after the graph)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in list(paths.items()):
        graph = onnx.load(str(path))
        if any(o.name == output for o in graph.graph.output):
            _rename_output(graph, output, f"{output}_raw")
            graph.graph.initializer.append(
                numpy_helper.from_array(np.array(factor, np.float32), f"{output}_factor")
            )
            graph.graph.node.append(
                helper.make_node("Mul", [f"{output}_raw", f"{output}_factor"], [output])
            )
        paths[name] = folder / path.name
        onnx.save(graph, str(paths[name]))


def _rename_output(graph: onnx.ModelProto, old: str, new: str) -> None:
    for node in graph.graph.node:
        node.output[:] = [new if o == old else o for o in node.output]
        node.input[:] = [new if i == old else i for i in node.input]


def _one_pixel_relabelled(paths: dict[str, Path], folder: Path, labels: int) -> None:
    """Pixel (0, 0) of every image takes the next label: 1 pixel in 3 840 (99.97 % agree)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in list(paths.items()):
        graph = onnx.load(str(path))
        if any(o.name == "segmentation" for o in graph.graph.output):
            _rename_output(graph, "segmentation", "segmentation_raw")
            corner = np.zeros((48, 80), bool)
            corner[0, 0] = True
            constants = {"one": np.array(1, np.int64), "labels": np.array(labels, np.int64)}
            for tag, value in {**constants, "corner": corner}.items():
                graph.graph.initializer.append(numpy_helper.from_array(value, f"seg_{tag}"))
            graph.graph.node.extend(
                [
                    helper.make_node("Add", ["segmentation_raw", "seg_one"], ["seg_next"]),
                    helper.make_node("Mod", ["seg_next", "seg_labels"], ["seg_wrapped"]),
                    helper.make_node(
                        "Where", ["seg_corner", "seg_wrapped", "segmentation_raw"], ["segmentation"]
                    ),
                ]
            )
        paths[name] = folder / path.name
        onnx.save(graph, str(paths[name]))


def _jitter_every_weight(model: ASTSeg) -> None:
    """Each parameter rounded differently by up to 4 ulp, as a kernel rounding each product
    its own way would (relative 2^-21 = 4.8e-7)."""
    generator = torch.Generator().manual_seed(5)
    for parameter in model.parameters():
        noise = torch.rand(parameter.shape, generator=generator) * 2 - 1
        parameter.mul_(1 + noise * 2.0**-21)


def test_kernel_sized_differences_pass(model: ASTSeg, faithful: dict[str, Path], tmp_path) -> None:
    report = measure_parity(model, faithful, PLAN)
    assert report.failures() == []
    # What this CPU gives is far above the old fixed 1e-4 only where float32 itself is:
    pipeline = next(c for c in report.checks if c.graph == "pipeline").tensors["weights"]
    assert pipeline.float32_error > 1e-5 and pipeline.limit > 1e-4

    jittered = _export(_altered(model, _jitter_every_weight), tmp_path / "jittered")
    assert measure_parity(model, jittered, PLAN).failures() == []

    # The renderer's layer weights 1.5e-4 (relative) off, more than the 1.27e-4 an AMD EPYC
    # gave a user's renderer (issue 14): passes, where the fixed 1e-4 limit refused it.
    paths = dict(faithful)
    _scale_output(paths, tmp_path / "scaled", "weights", 1 + 1.5e-4)
    report = measure_parity(model, paths, PLAN)
    assert report.failures() == []
    assert report.worst("weights") > 1e-4
    require_parity(report)  # does not raise


def _slot_projection_times(model: ASTSeg, factor: float) -> None:
    assert model.encoder.refiner is not None
    model.encoder.refiner.project.weight.mul_(factor)


def _swap_red_and_blue(model: ASTSeg) -> None:
    conv = next(
        m for m in model.encoder.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels == 3
    )
    conv.weight.copy_(conv.weight[:, [2, 1, 0]])


def _grid_one_pixel_right(model: ASTSeg) -> None:
    placer = model.renderer.placer
    placer.grid[:, 0] += 2.0 / placer.width


def _one_slot_activation_wrong(model: ASTSeg) -> None:
    model.renderer.log_background_activation.add_(0.01)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: _slot_projection_times(m, 1.001), "encoder"),
        (_swap_red_and_blue, "encoder"),
        (_grid_one_pixel_right, "renderer weights differs"),
        (_one_slot_activation_wrong, "renderer weights differs"),
    ],
    ids=["one-tensor-0.1%-off", "red-blue-swapped", "grid-off-by-one-pixel", "background-alpha"],
)
def test_real_export_errors_fail(model: ASTSeg, tmp_path, change, expected: str) -> None:
    wrong = _export(_altered(model, change), tmp_path / "wrong")
    report = measure_parity(model, wrong, PLAN)
    assert any(expected in f for f in report.failures()), report.failures()
    with pytest.raises(ExportError, match="do not reproduce the PyTorch model"):
        require_parity(report)


def test_a_segmentation_that_disagrees_beyond_ties_fails(
    model: ASTSeg, faithful: dict[str, Path], tmp_path
) -> None:
    paths = dict(faithful)
    _one_pixel_relabelled(paths, tmp_path / "relabelled", labels=model.config.num_slots + 1)
    report: ParityReport = measure_parity(model, paths, PLAN)
    failures = report.failures()
    assert any("renderer segmentation agrees on 99.97" in f for f in failures), failures
    assert any("not near-ties" in f for f in failures)
    # A 99.9 % agreement floor alone would have let this through.
    renderer = next(c for c in report.checks if c.graph == "renderer")
    assert renderer.segmentation_agreement is not None
    assert renderer.segmentation_agreement > 0.999


def test_a_weights_error_ten_times_the_float32_limit_fails(
    model: ASTSeg, faithful: dict[str, Path], tmp_path
) -> None:
    limit = next(c for c in measure_parity(model, faithful, PLAN).checks if c.graph == "renderer")
    relative = 10 * limit.tensors["weights"].limit
    paths = dict(faithful)
    _scale_output(paths, tmp_path / "scaled", "weights", 1 + relative)
    failures = measure_parity(model, paths, PLAN).failures()
    assert any("renderer weights differs" in f for f in failures), failures
