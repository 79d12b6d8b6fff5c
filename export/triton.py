"""A Triton Inference Server model repository for the bundle's ONNX graphs.

Models (ONNX Runtime backend): `astseg_encoder`, `astseg_renderer`, the ensemble
`astseg` joining them (image in; latents, weights and segmentation out, like the
fused graph), `astseg_segmenter` when the bundle has the fused graph, and
`astseg_background` (frame at its own size -> background, noise) when the bundle has the
fixed-camera background graph. A dynamic
batch export becomes `max_batch_size` with Triton's dynamic batcher; a fixed batch
becomes `max_batch_size: 0` with the batch written into the dims. Other models in
the repository are left alone; ours are replaced whole (staged, then renamed).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from export.errors import ExportError
from export.spec import BatchPlan, GraphSpec, TensorSpec
from sdk.outputs.atomic import publish_dir

PREFIX = "astseg"
TRITON_TYPES = {"uint8": "TYPE_UINT8", "float32": "TYPE_FP32", "int64": "TYPE_INT64"}


def _dims(tensor: TensorSpec, batch: BatchPlan) -> list[int]:
    return list(tensor.shape) if batch.dynamic else [batch.max, *tensor.shape]


def _tensors(kind: str, tensors: tuple[TensorSpec, ...], batch: BatchPlan) -> list[str]:
    blocks = []
    for t in tensors:
        dims = ", ".join(str(d) for d in _dims(t, batch))
        blocks.append(
            f'  {{\n    name: "{t.name}"\n    data_type: {TRITON_TYPES[t.dtype]}\n'
            f"    dims: [ {dims} ]\n  }}"
        )
    return [f"{kind} [", ",\n".join(blocks), "]"]


def _header(name: str, batch: BatchPlan) -> list[str]:
    return [f'name: "{name}"', f"max_batch_size: {batch.max if batch.dynamic else 0}"]


def onnx_model_config(name: str, spec: GraphSpec, batch: BatchPlan) -> str:
    lines = [*_header(name, batch), 'backend: "onnxruntime"']
    lines += _tensors("input", spec.inputs, batch) + _tensors("output", spec.outputs, batch)
    if batch.dynamic:
        lines.append("dynamic_batching { }")
    return "\n".join(lines) + "\n"


def _map(kind: str, names: tuple[str, ...]) -> list[str]:
    return [f'      {kind} {{ key: "{n}" value: "{n}" }}' for n in names]


def ensemble_config(name: str, encoder: GraphSpec, renderer: GraphSpec, batch: BatchPlan) -> str:
    """Image -> encoder -> renderer; outputs the latents, weights and segmentation."""
    lines = [*_header(name, batch), 'platform: "ensemble"']
    lines += _tensors("input", encoder.inputs, batch)
    lines += _tensors("output", encoder.outputs + renderer.outputs, batch)
    steps = []
    for spec in (encoder, renderer):
        body = [
            f'      model_name: "{PREFIX}_{spec.name}"',
            "      model_version: -1",
            *_map("input_map", tuple(t.name for t in spec.inputs)),
            *_map("output_map", tuple(t.name for t in spec.outputs)),
        ]
        steps.append("    {\n" + "\n".join(body) + "\n    }")
    lines += ["ensemble_scheduling {", "  step [", ",\n".join(steps), "  ]", "}"]
    return "\n".join(lines) + "\n"


def check_triton_repository(repo: Path) -> None:
    """Refuse a repository that cannot become a folder, before any export work is done and
    without creating anything (a failed export leaves no empty repository behind)."""
    if repo.exists() and not repo.is_dir():
        raise ExportError(f"--triton {repo} is a file; give a model repository folder")
    existing = repo
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ExportError(
            f"--triton {repo} lies under the file {existing}; give a model repository folder"
        )
    if not os.access(existing, os.W_OK):
        raise ExportError(f"--triton {repo}: the folder {existing} is not writable")


def write_triton_repository(
    bundle: Path, repo: Path, specs: list[GraphSpec], batch: BatchPlan
) -> list[Path]:
    """Writes our models into `repo` (created if missing); returns their folders."""
    check_triton_repository(repo)
    repo.mkdir(parents=True, exist_ok=True)
    by_name = {s.name: s for s in specs}
    models: dict[str, tuple[str, str | None]] = {}  # folder -> (config text, onnx file)
    for spec in specs:
        models[f"{PREFIX}_{spec.name}"] = (
            onnx_model_config(f"{PREFIX}_{spec.name}", spec, batch),
            spec.file_name,
        )
    models[PREFIX] = (ensemble_config(PREFIX, by_name["encoder"], by_name["renderer"], batch), None)
    written = []
    for folder, (config, onnx_file) in models.items():
        staging = Path(tempfile.mkdtemp(prefix=f".{folder}.", dir=repo.parent))
        try:
            (staging / "config.pbtxt").write_text(config, encoding="utf-8")
            version = staging / "1"  # an ensemble needs the version folder too, empty
            version.mkdir()
            if onnx_file is not None:
                shutil.copyfile(bundle / onnx_file, version / "model.onnx")
            publish_dir(staging, repo / folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        written.append(repo / folder)
    return written
