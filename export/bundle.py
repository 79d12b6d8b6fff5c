"""`astseg export`: checkpoint -> proven ONNX graphs (+ TensorRT plans) -> model bundle.

Everything is written into a staging folder beside `out` and renamed into place
only after every graph passed the ONNX checker, shape inference, the contract
check, the TensorRT operator check and parity with PyTorch; a failure at any step
removes the staging folder, so no half bundle is ever left looking whole.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from export.background_parity import measure_background_parity
from export.engine_parity import measure_engine_parity
from export.errors import ExportError
from export.half_weights import round_to_float16_, store_weights_as_float16
from export.manifest import (
    background_section,
    build_manifest,
    exporter_versions,
    file_entries,
    model_section,
    package_version,
    plain_json,
    training_info,
    write_json,
)
from export.onnx_checks import check_graph
from export.onnx_export import DEFAULT_OPSET, check_opset, export_graph
from export.parity import ParityReport, measure_parity, require_parity
from export.sample_images import sample_images
from export.simplify import require_onnxslim, simplify_graph
from export.spec import BatchPlan, GraphSpec, graph_specs
from export.tensorrt_build import BuiltEngine, EngineBuilder, TrtOptions
from export.tensorrt_ops import TARGET_VERSIONS, check_tensorrt_support
from export.triton import check_triton_repository, write_triton_repository
from sdk.bundle.manifest import MANIFEST_NAME, EngineSpec
from sdk.outputs.atomic import atomic_file, publish_dir
from training.checkpoint import background_untrained_reason, checkpoint_to_export, load_model
from training.model import ASTSeg

DEFAULT_MAX_BATCH = 8


@dataclass(frozen=True)
class ExportOptions:
    """What `astseg export` was asked for; `batch_plan()` resolves the batch options."""

    batch: int | None = None  # a fixed batch size; None means a dynamic batch
    dynamic: bool = False  # the default anyway; --dynamic says it explicitly
    max_batch: int | None = None
    opset: int = DEFAULT_OPSET
    simplify: bool = False
    fused: bool = False
    zip: bool = False
    trt: TrtOptions | None = None
    triton: Path | None = None

    def batch_plan(self) -> BatchPlan:
        if self.batch is not None and (self.dynamic or self.max_batch is not None):
            raise ExportError(
                "--batch fixes the batch size; it cannot go with --dynamic/--max-batch"
            )
        if self.batch is not None:
            return BatchPlan.fixed(self.batch)
        # `or` would turn an explicit --max-batch 0 into the default; only None means unset
        return BatchPlan.dynamic_up_to(
            DEFAULT_MAX_BATCH if self.max_batch is None else self.max_batch
        )


@dataclass
class ExportResult:
    bundle: Path
    manifest: dict[str, Any]
    parity: ParityReport
    zip_path: Path | None = None
    engine_parity: dict[str, dict[str, Any]] = field(default_factory=dict)
    triton_models: list[Path] = field(default_factory=list)

    @property
    def file_sizes(self) -> dict[str, int]:
        return {p.name: p.stat().st_size for p in sorted(self.bundle.iterdir()) if p.is_file()}


def _check_destination(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {out} is a file; give a folder for the bundle")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST_NAME).is_file():
        raise ExportError(
            f"--out {out} exists and is not an astseg bundle; choose a new or empty folder"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ExportError(
            f"cannot create the folder {out.parent} for the bundle ({err.strerror or err}); "
            "choose another --out"
        ) from None


def _export_graphs(
    model: ASTSeg,
    specs: list[GraphSpec],
    plan: BatchPlan,
    staging: Path,
    options: ExportOptions,
    log: Callable[[str], None],
) -> dict[str, Path]:
    cfg = model.config
    count = max(plan.trace_size, *plan.parity_sizes)
    slot_images = sample_images(count, cfg.image_height, cfg.image_width, seed=1)
    paths = {}
    for spec in specs:
        path = staging / spec.file_name
        log(f"exporting {spec.file_name} (opset {options.opset})")
        _, height, width = spec.inputs[0].shape if spec.name == "background" else (3, 0, 0)
        # The background graph traces at its own input size; the others at the slot size.
        images = sample_images(count, height, width, seed=1) if height else slot_images
        export_graph(model, spec, plan, torch.from_numpy(images), path, options.opset)
        if options.simplify:
            simplify_graph(path)
        if spec.name == "background":  # the weights were rounded to float16 values on load
            store_weights_as_float16(path)
        graph = check_graph(path, spec, plan)
        check_tensorrt_support(graph, spec.file_name)
        versions = " and ".join(str(v) for v in TARGET_VERSIONS)
        log(
            f"checked {spec.file_name}: {len(graph.graph.node)} nodes, ONNX checker and shape "
            f"inference pass, every op is on TensorRT {versions}'s support list"
        )
        paths[spec.name] = path
    return paths


def _build_engines(
    builder: EngineBuilder,
    specs: list[GraphSpec],
    plan: BatchPlan,
    staging: Path,
    log: Callable[[str], None],
) -> tuple[list[BuiltEngine], dict[str, dict[str, Any]]]:
    engines = [builder.build(staging / s.file_name, s, plan, staging) for s in specs]
    builder.save_timing_cache()
    if not torch.cuda.is_available():
        log("engine parity not measured: torch here has no CUDA to run the plans")
        return engines, {}
    _, height, width = specs[0].inputs[0].shape  # the encoder's image: (3, H, W)
    figures = measure_engine_parity(staging, engines, plan, height, width)
    for engine in engines:
        sidecar_path = staging / engine.sidecar
        sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
        sidecar["parity_vs_onnxruntime"] = plain_json(figures[engine.graph])
        write_json(sidecar_path, sidecar)
    return engines, figures


def write_zip(source: Path, archive: Path) -> None:
    """Zips the files of `source` (flat, as docs/bundle-format.md says) to `archive`."""
    with (
        atomic_file(archive, suffix=".tmp") as handle,
        zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as zf,
    ):
        for path in sorted(source.iterdir()):
            zf.write(path, path.name)


def export_bundle(
    checkpoint: str | Path,
    out: str | Path,
    options: ExportOptions | None = None,
    log: Callable[[str], None] = print,
) -> ExportResult:
    """Exports the checkpoint (or run folder) to a validated bundle folder at `out`."""
    options = options or ExportOptions()
    plan = options.batch_plan()
    check_opset(options.opset)
    if options.simplify:
        require_onnxslim()
    # Fail before minutes of work when TensorRT or the GPU is missing.
    builder = EngineBuilder(options.trt, log) if options.trt is not None else None
    if options.triton is not None:  # a file given as --triton is refused before the work
        check_triton_repository(options.triton)
    out = Path(out).expanduser()
    checkpoint_path, chosen = checkpoint_to_export(checkpoint)
    if chosen is not None:
        log(chosen)
    model, config, data = load_model(checkpoint_path)
    _check_destination(out)
    # Fixed-camera mode whenever the checkpoint's background model was trained (phase 1).
    untrained = background_untrained_reason(data)
    if untrained is not None:
        log(f"no background.onnx (the bundle runs in slot mode): {untrained}")
    specs = graph_specs(config.model, options.fused, background=untrained is None)
    if untrained is None:
        # Stored as float16 (export.half_weights); traced, checked and measured as rounded.
        round_to_float16_(model.background)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        paths = _export_graphs(model, specs, plan, staging, options, log)
        log(
            f"comparing ONNX Runtime with PyTorch at batch {', '.join(map(str, plan.parity_sizes))}"
        )
        slot_paths = {name: path for name, path in paths.items() if name != "background"}
        parity = measure_parity(model, slot_paths, plan)
        if "background" in paths:
            parity.checks.append(measure_background_parity(model, paths["background"], plan))
        require_parity(parity)
        engines: list[BuiltEngine] = []
        engine_parity: dict[str, dict[str, Any]] = {}
        if builder is not None:
            engines, engine_parity = _build_engines(builder, specs, plan, staging, log)
        extra = {"tensorrt": builder.version} if builder is not None else {}
        if options.simplify:
            extra["onnxslim"] = package_version("onnxslim") or "unknown"
        metrics, training = training_info(data, checkpoint_path)
        names = [p.name for p in paths.values()] + [n for e in engines for n in (e.plan, e.sidecar)]
        log_bg = float(model.renderer.log_background_activation.detach().reshape(-1)[0])
        manifest = build_manifest(
            model=model_section(config.model, log_bg),
            batch=plan,
            graphs={name: path.name for name, path in paths.items()},
            engines={e.graph: EngineSpec(plan=e.plan, sidecar=e.sidecar) for e in engines},
            files=file_entries(staging, names),
            opset=options.opset,
            exporter=exporter_versions(extra),
            parity=parity.to_manifest(),
            metrics=metrics,
            training=training,
            background=background_section(config.model) if "background" in paths else None,
        )
        written = manifest.to_dict()
        write_json(staging / MANIFEST_NAME, written)
        publish_dir(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result = ExportResult(out, written, parity, engine_parity=engine_parity)
    if options.zip:
        result.zip_path = out.parent / f"{out.name}.zip"
        write_zip(out, result.zip_path)
    if options.triton is not None:
        result.triton_models = write_triton_repository(out, options.triton, specs, plan)
    return result
