"""What the benchmarks measure: model configurations, random-init checkpoints, bundles, clips.

Model subjects:
- `cpu`: the `cpu` preset (64x64, K = 4, tiny Segformer, 2-layer transformer), the
  architecture of the default bundle until that bundle exists;
- `b3-128`: a Segformer-B3-sized 128x128 model: the `clevr` preset (128x128, K = 10, the
  paper's 6-layer transformer of width 256) with a randomly initialised backbone of
  nvidia/mit-b3's sizes (`MIT_B3`, below);
- `quick`, `quick-large`: shrunk stand-ins that export in a second, for `--quick` runs;
- `bundle:PATH`, `checkpoint:PATH`: the architecture recorded in a bundle's astseg.json or
  a checkpoint's config (random weights).

Speed does not depend on the weights, so random init is fine for timing; every
comparison that needs the *same* weights exports its graphs from the very checkpoint it
runs in PyTorch. torch is imported only inside the functions that build or export a
model: a torch-free benchmark calls `export_bundles`, which runs this file in a child
process, so the runtime it measures is the runtime users get.

    python benchmarks/subjects.py --jobs '[{"model": "cpu", "out": "/tmp/cpu"}]'
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, run_child  # noqa: E402

from sdk.bundle.manifest import MANIFEST_NAME as MANIFEST  # noqa: E402

# nvidia/mit-b3's config.json (Segformer-B3 encoder, Xie et al. 2021, Table 6), with the
# decode head width of the B2-B5 models; the rest equals SegformerConfig's defaults and
# is spelled out so the file says what was measured.
MIT_B3: dict[str, Any] = {
    "hidden_sizes": [64, 128, 320, 512],
    "depths": [3, 4, 18, 3],
    "num_attention_heads": [1, 2, 5, 8],
    "sr_ratios": [8, 4, 2, 1],
    "patch_sizes": [7, 3, 3, 3],
    "strides": [4, 2, 2, 2],
    "mlp_ratios": [4, 4, 4, 4],
    "decoder_hidden_size": 768,
}
# Stand-ins for --quick runs: the same code paths at a size that exports in a second.
QUICK_SEGFORMER: dict[str, Any] = {
    "hidden_sizes": [8, 16, 24, 32],
    "depths": [1, 1, 1, 1],
    "num_attention_heads": [1, 1, 1, 1],
    "decoder_hidden_size": 32,
}
QUICK_LARGE_SEGFORMER: dict[str, Any] = {
    "hidden_sizes": [16, 32, 48, 64],
    "depths": [1, 1, 2, 1],
    "num_attention_heads": [1, 1, 2, 2],
    "decoder_hidden_size": 64,
}
MODELS = ("cpu", "b3-128", "quick", "quick-large")
DEFAULT_BUNDLE = ROOT / "sdk" / "models" / "default"


# ------------------------------------------------------------------ configurations
def model_config(model: str, sets: list[str] | None = None) -> Any:
    """The training Config of a named subject, with `key=value` overrides (YAML values)."""
    import yaml

    from training.config import Config
    from training.presets import preset_config

    if model.startswith("bundle:"):
        manifest = json.loads((Path(model[7:]) / MANIFEST).read_text())
        config = Config.from_dict({"model": manifest["model"]["config"]})
    elif model.startswith("checkpoint:"):
        from training.checkpoint import load_checkpoint

        config = Config.from_dict(load_checkpoint(model[11:])["config"])
    elif model == "cpu":
        config = preset_config("cpu")
    elif model == "b3-128":
        config = preset_config("clevr").with_overrides(
            {
                "model.backbone": None,
                "model.segformer_overrides": MIT_B3,
                "model.transformer_dropout": 0.0,
            }
        )
    elif model in ("quick", "quick-large"):
        large = model == "quick-large"
        config = preset_config("cpu").with_overrides(
            {
                "model.segformer_overrides": QUICK_LARGE_SEGFORMER if large else QUICK_SEGFORMER,
                "model.transformer_dim": 32,
                "model.transformer_heads": 2,
                "model.transformer_ff_dim": 64,
                "model.z_what_dim": 8,
                "model.glimpse_size": 16,
            }
        )
    else:
        raise ValueError(
            f"unknown model {model!r}; choose {', '.join(MODELS)}, bundle:PATH or checkpoint:PATH"
        )
    overrides = {}
    for item in sets or []:
        key, _, value = item.partition("=")
        overrides[key] = yaml.safe_load(value)
    return config.with_overrides(overrides) if overrides else config


def describe(config: Any) -> dict[str, Any]:
    """The facts of a model configuration a reader of a result needs (glimpse size as used:
    the config's, or the Table 7 rule's when the config leaves it to the image size)."""
    from training.model.glimpse_generator import glimpse_size_for

    m = config.model
    return {
        "image_size": [m.image_height, m.image_width],
        "num_slots": m.num_slots,
        "feature_generator": m.feature_generator,
        "segformer": dict(m.segformer_overrides) if m.backbone is None else m.backbone,
        "transformer": {"layers": m.transformer_layers, "width": m.transformer_dim},
        "glimpse_size": m.glimpse_size or glimpse_size_for(m.image_height, m.image_width),
        "scaling": m.scaling,
    }


# ------------------------------------------------------------------ building (torch)
def write_random_checkpoint(path: Path, config: Any, seed: int = 0) -> Path:
    import torch

    from training.checkpoint import save_checkpoint
    from training.model import ASTSeg

    torch.manual_seed(seed)
    model = ASTSeg(config.model)
    return save_checkpoint(path, {"config": config.to_dict(), "model": model.state_dict()})


def prepare(job: dict[str, Any]) -> dict[str, Any]:
    """One job: {out, model | checkpoint, sets?, seed?} -> OUT/checkpoint.pt, OUT/bundle/.

    A given checkpoint is exported as it is; otherwise a random-init checkpoint of the
    named model is written first. The bundle holds the fused graph and the separate ones.
    """
    from export.bundle import ExportOptions, export_bundle
    from training.checkpoint import load_checkpoint
    from training.config import Config

    out = Path(job["out"])
    out.mkdir(parents=True, exist_ok=True)
    if job.get("checkpoint"):
        checkpoint = Path(job["checkpoint"])
        config = Config.from_dict(load_checkpoint(checkpoint)["config"])
        origin = f"checkpoint {checkpoint}"
    else:
        config = model_config(job["model"], job.get("sets"))
        checkpoint = write_random_checkpoint(out / "checkpoint.pt", config, job.get("seed", 0))
        origin = f"random init of {job['model']}" + (
            f" with {', '.join(job['sets'])}" if job.get("sets") else ""
        )
    start = time.perf_counter()
    result = export_bundle(
        checkpoint, out / "bundle", ExportOptions(fused=True, max_batch=8), log=lambda _: None
    )
    return {
        "checkpoint": str(checkpoint),
        "bundle": str(result.bundle),
        "origin": origin,
        "model": describe(config),
        "export_s": round(time.perf_counter() - start, 2),
        "files": result.file_sizes,
    }


# ------------------------------------------------------------------ from torch-free code
def export_bundles(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs `prepare` for each job in one child process (torch stays out of this one)."""
    child = run_child([sys.executable, __file__, "--jobs", json.dumps(jobs)])
    return child.check("exporting the benchmark models").last_json()["results"]


def has_bundle(path: Path) -> bool:
    return (path / MANIFEST).is_file()


def manifest(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / MANIFEST).read_text())


def runtime_bundle(
    bundle: Path | None, checkpoint: Path | None, work: Path, quick: bool
) -> dict[str, Any]:
    """The bundle a runtime benchmark measures, and where it came from.

    In order: `--bundle`; the default bundle (sdk/models/default) when it exists;
    `--checkpoint` exported here; else a random-init stand-in (`quick` when quick, else the
    `cpu` preset, the default bundle's architecture) exported here.
    """
    if bundle is not None:
        if not has_bundle(bundle):
            raise SystemExit(f"--bundle {bundle} is not a bundle folder (no {MANIFEST})")
        return {"bundle": str(bundle), "origin": f"bundle {bundle}"}
    if has_bundle(DEFAULT_BUNDLE):
        return {"bundle": str(DEFAULT_BUNDLE), "origin": "the default bundle"}
    job: dict[str, Any] = {"out": str(work / "subject")}
    if checkpoint is not None:
        job["checkpoint"] = str(checkpoint)
    else:
        job["model"] = "quick" if quick else "cpu"
    result = export_bundles([job])[0]
    if checkpoint is None:
        result["origin"] += " (no default bundle yet; random weights)"
    return result


def scene_for(bundle: Path, height: int, width: int, **changes: Any) -> Any:
    """Synthetic-scene settings like those the bundle was trained on, at another size.

    When the bundle's astseg.json names a `synthetic:` training spec, its shapes,
    background, object count, noise and seed are kept (the model's own domain); otherwise
    the generator's defaults with at most K objects.
    """
    from training.data import SceneConfig
    from training.data.spec import synthetic_scene_config

    info = manifest(bundle)
    spec = str(info.get("training", {}).get("data", ""))
    try:
        scene = synthetic_scene_config(spec) if spec else None
    except ValueError:
        scene = None
    if scene is None:
        k = int(info["model"]["num_slots"])
        scene = SceneConfig(max_objects=min(4, k), min_objects=1)
    return replace(scene, height=height, width=width, **changes).validate()


def write_clip(path: Path, scene: Any, frames: int, fps: float = 25.0) -> Path:
    """A fixed-camera synthetic video (mp4v) of `scene`, as `astseg run --video` reads it."""
    import cv2

    from training.data import SyntheticVideo

    video = SyntheticVideo(scene, frames)
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (scene.width, scene.height)
    )
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write an mp4v video at {path}")
    try:
        for t in range(frames):
            writer.write(video.render(t)[0][:, :, ::-1].copy())
    finally:
        writer.release()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", required=True, help="JSON list of {out, model|checkpoint}")
    args = parser.parse_args()
    results = [prepare(job) for job in json.loads(args.jobs)]
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
