"""Inference engines on the same weights and inputs: PyTorch eager vs ONNX Runtime (CPU).

Models: the default bundle's model (its checkpoint, `--checkpoint`; without one a
random-init model of the default bundle's architecture, or of the `cpu` preset until that
bundle exists) and a Segformer-B3-sized 128x128 model (random init, `subjects.MIT_B3`).
Each model's graphs are exported in this run from the checkpoint PyTorch runs, so both
engines hold the same weights; both get the same uint8 images (object-like test scenes).

Engines:
  torch_eager   the export wrappers (export.wrappers.SegmenterGraph) run eagerly under
                torch.inference_mode(): the computation the graphs hold (scaling, encoder,
                mask-only rendering, occlusion weights, argmax), PyTorch's fast paths on
  ort_separate  the runtime's ONNX Runtime backend on encoder.onnx -> renderer.onnx
  ort_fused     the same backend on segmenter.onnx (what it picks when a bundle has it)
Threads = usable cores for both (--threads). Latency: milliseconds per call at batch 1;
throughput: images/s at batch 8. Warm-up calls are excluded and the engines interleave
round by round. Target: ONNX Runtime >= 1.5x PyTorch eager at batch 1 (default model).

    python benchmarks/inference.py --checkpoint runs/default/checkpoints/best.pt
    python benchmarks/inference.py --quick
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    ENGINE_COLOURS,
    base_parser,
    finish,
    fmt,
    header,
    interleaved,
    output_paths,
    path_arg,
    plot_footer,
    pyplot,
    ratio,
    save_figure,
    stats_ms,
    usable_cores,
    work_dir,
)
from subjects import DEFAULT_BUNDLE, has_bundle, prepare  # noqa: E402

ENGINES = ("torch_eager", "ort_separate", "ort_fused")
ENGINE_LABELS = {
    "torch_eager": "PyTorch eager",
    "ort_separate": "ONNX Runtime, encoder -> renderer",
    "ort_fused": "ONNX Runtime, fused graph",
}
SUBJECT_LABELS = {"default": "default model", "segformer_b3_128": "Segformer-B3-sized"}
BATCHES = (1, 8)
TARGET_SPEEDUP_B1 = 1.5


def parse_args(argv: list[str] | None) -> Any:
    parser = base_parser(__doc__)
    parser.add_argument(
        "--checkpoint", type=path_arg, help="the default bundle's checkpoint (.pt or run folder)"
    )
    parser.add_argument("--rounds", type=int, help="timed calls per engine at batch 1 (30)")
    parser.add_argument("--rounds-b8", type=int, help="timed calls per engine at batch 8 (10)")
    parser.add_argument("--warmup", type=int, help="untimed calls per engine first (3)")
    parser.add_argument("--threads", type=int, default=usable_cores(), help="default: cores")
    parser.add_argument("--skip-b3", action="store_true", help="only the default model")
    args = parser.parse_args(argv)
    quick = args.quick
    args.rounds = args.rounds or (3 if quick else 30)
    args.rounds_b8 = args.rounds_b8 or (2 if quick else 10)
    args.warmup = args.warmup if args.warmup is not None else (1 if quick else 3)
    if min(args.rounds, args.rounds_b8, args.threads) < 1 or args.warmup < 0:
        parser.error("--rounds, --rounds-b8 and --threads must be >= 1, --warmup >= 0")
    return args


def subject_jobs(args: Any, work: Path) -> dict[str, dict[str, Any]]:
    """name -> job for subjects.prepare: the default model, then the B3-sized one."""
    default: dict[str, Any] = {"out": str(work / "default")}
    if args.checkpoint is not None:
        default["checkpoint"] = str(args.checkpoint)
    elif has_bundle(DEFAULT_BUNDLE):
        default["model"] = f"bundle:{DEFAULT_BUNDLE}"
    else:
        default["model"] = "quick" if args.quick else "cpu"
    jobs = {"default": default}
    if not args.skip_b3:
        model = "quick-large" if args.quick else "b3-128"
        jobs["segformer_b3_128"] = {"out": str(work / "b3"), "model": model}
    return jobs


def backends(bundle_dir: Path, threads: int) -> dict[str, Any]:
    """The runtime's own ONNX Runtime backend, once on the fused graph, once on the pair."""
    from sdk.backends.onnx_runtime import OnnxRuntimeBackend
    from sdk.bundle.bundle import load_bundle

    bundle = load_bundle(bundle_dir)
    graphs = {k: v for k, v in bundle.manifest.graphs.items() if k != "segmenter"}
    separate = replace(bundle, manifest=replace(bundle.manifest, graphs=graphs))
    return {
        "ort_separate": OnnxRuntimeBackend(separate, device_kind="cpu", threads=threads),
        "ort_fused": OnnxRuntimeBackend(bundle, device_kind="cpu", threads=threads),
    }


def parity(torch_out: tuple[Any, ...], ort_out: Any, limit_weights: float) -> dict[str, float]:
    """How far an ONNX Runtime result is from PyTorch's on the same images; `limit_weights`
    is the export's float32 limit for that graph (docs/export.md), not a fixed figure."""
    import numpy as np

    weights, segmentation = torch_out[-2].numpy(), torch_out[-1].numpy()
    return {
        "max_abs_weights": float(np.abs(ort_out.weights - weights).max()),
        "limit_weights": limit_weights,
        "max_abs_position": float(np.abs(ort_out.position - torch_out[0].numpy()).max()),
        "segmentation_agreement": float((ort_out.segmentation == segmentation).mean()),
    }


def measure_subject(prepared: dict[str, Any], args: Any) -> dict[str, Any]:
    import torch

    from export.sample_images import sample_images
    from export.wrappers import SegmenterGraph
    from training.checkpoint import load_model

    model, config, _ = load_model(prepared["checkpoint"])
    graph = SegmenterGraph(model.encoder, model.renderer).eval()
    engines = backends(Path(prepared["bundle"]), args.threads)
    manifest = json.loads((Path(prepared["bundle"]) / "astseg.json").read_text(encoding="utf-8"))
    limits = {
        g: f["limit_weights"]
        for g, f in manifest["parity"]["graphs"].items()
        if "limit_weights" in f
    }
    h, w = config.model.image_height, config.model.image_width
    result: dict[str, Any] = {
        "origin": prepared["origin"],
        "model": prepared["model"],
        "bundle_files": prepared["files"],
        "export_s": prepared["export_s"],
        "backends": {name: engine.description for name, engine in engines.items()},
        "parity": {},
        "speedup_vs_torch": {},
    }
    for batch in BATCHES:
        images = sample_images(batch, h, w, seed=7)
        tensor = torch.from_numpy(images)

        def run_torch(tensor: torch.Tensor = tensor) -> tuple[torch.Tensor, ...]:
            with torch.inference_mode():
                return graph(tensor)

        calls = {
            "torch_eager": run_torch,
            "ort_separate": lambda images=images: engines["ort_separate"].run(images),
            "ort_fused": lambda images=images: engines["ort_fused"].run(images),
        }
        reference = run_torch()
        result["parity"][f"batch_{batch}"] = {
            name: parity(reference, calls[name](), limits[graph_name])
            for name, graph_name in (("ort_separate", "pipeline"), ("ort_fused", "segmenter"))
        }
        rounds = args.rounds if batch == 1 else args.rounds_b8
        samples = interleaved(calls, rounds, args.warmup)
        entry = {}
        for name in ENGINES:
            timing = stats_ms(samples[name])
            timing["images_per_s"] = round(batch * 1000.0 / timing["median_ms"], 2)
            timing["images_per_s_best"] = round(batch * 1000.0 / timing["min_ms"], 2)
            entry[name] = timing
        result[f"batch_{batch}"] = entry
        torch_ms = entry["torch_eager"]["median_ms"]
        result["speedup_vs_torch"][f"batch_{batch}"] = {
            name: ratio(torch_ms, entry[name]["median_ms"]) for name in ENGINES[1:]
        }
        print(
            f"  batch {batch}: " + ", ".join(f"{n} {entry[n]['median_ms']:.2f} ms" for n in ENGINES)
        )
    return result


def summary_of(subjects: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    prefixes = {"default": "", "segformer_b3_128": "b3_"}
    for name, prefix in prefixes.items():
        s = subjects.get(name)
        if not s or "error" in s:
            continue
        sp = s["speedup_vs_torch"]
        summary[f"{prefix}ort_vs_torch_speedup_b1"] = sp["batch_1"]["ort_fused"]
        summary[f"{prefix}ort_vs_torch_speedup_b8"] = sp["batch_8"]["ort_fused"]
        summary[f"{prefix}ort_separate_vs_torch_speedup_b1"] = sp["batch_1"]["ort_separate"]
        summary[f"{prefix}torch_b1_ms"] = s["batch_1"]["torch_eager"]["median_ms"]
        summary[f"{prefix}ort_b1_ms"] = s["batch_1"]["ort_fused"]["median_ms"]
        summary[f"{prefix}ort_b8_images_per_s"] = s["batch_8"]["ort_fused"]["images_per_s"]
        summary[f"{prefix}torch_b8_images_per_s"] = s["batch_8"]["torch_eager"]["images_per_s"]
    return summary


def subject_label(name: str, subject: dict[str, Any], quick: bool) -> str:
    h, w = subject["model"]["image_size"]
    base = SUBJECT_LABELS.get(name, name) + (" (quick stand-in)" if quick else "")
    return f"{base}: {h}x{w}, K = {subject['model']['num_slots']}"


def plot(report: dict[str, Any], path: Path) -> None:
    """One row per model: latency at batch 1 and throughput at batch 8, one bar per engine."""
    plt = pyplot()
    subjects = [n for n, s in report["subjects"].items() if "error" not in s]
    fig, axes = plt.subplots(
        len(subjects), 2, figsize=(10, 1.0 + 1.6 * len(subjects)), squeeze=False
    )
    for row, name in enumerate(subjects):
        subject = report["subjects"][name]
        for col, (batch, key, unit) in enumerate(
            (
                (1, "median_ms", "ms per image at batch 1 (lower is better)"),
                (8, "images_per_s", "images/s at batch 8 (higher is better)"),
            )
        ):
            ax = axes[row][col]
            values = [subject[f"batch_{batch}"][e][key] for e in ENGINES]
            speed = subject["speedup_vs_torch"][f"batch_{batch}"]
            bars = ax.barh(range(len(ENGINES)), values, color=[ENGINE_COLOURS[e] for e in ENGINES])
            for bar, engine, value in zip(bars, ENGINES, values, strict=True):
                text = f" {fmt(value)}"
                if engine != "torch_eager" and speed.get(engine):
                    text += f"  ({speed[engine]:.2f}x PyTorch)"
                ax.text(
                    bar.get_width(),
                    bar.get_y() + bar.get_height() / 2,
                    text,
                    va="center",
                    fontsize=8,
                )
            ax.set_yticks(range(len(ENGINES)))
            ax.set_yticklabels([ENGINE_LABELS[e] for e in ENGINES] if col == 0 else [])
            ax.invert_yaxis()
            ax.set_xlim(0, max(values) * 1.6)
            ax.set_xlabel(unit)
            if col == 0:
                ax.set_title(subject_label(name, subject, report["quick"]), loc="left")
    threads = report["threads"]
    fig.suptitle(
        f"PyTorch eager vs ONNX Runtime on the CPU: same weights, same inputs, "
        f"{threads} thread{'s' if threads > 1 else ''}",
        fontsize=11,
    )
    fig.tight_layout()
    save_figure(fig, path, plot_footer(report))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    json_path, png_path = output_paths(args, "inference")
    started = time.perf_counter()
    import torch

    torch.set_num_threads(args.threads)
    report = header("inference", args.quick, argv)
    report.update(
        {
            "threads": args.threads,
            "engines": ENGINE_LABELS,
            "rounds": {"batch_1": args.rounds, "batch_8": args.rounds_b8, "warmup": args.warmup},
            "subjects": {},
        }
    )
    with work_dir("inference") as tmp:
        for name, job in subject_jobs(args, Path(tmp)).items():
            print(f"{name}: exporting ({job.get('checkpoint') or job['model']})", flush=True)
            try:
                report["subjects"][name] = measure_subject(prepare(job), args)
            except Exception as err:  # a failed subject is recorded; the other still runs
                report["subjects"][name] = {"error": f"{type(err).__name__}: {err}"[:600]}
                print(f"  failed: {report['subjects'][name]['error']}", file=sys.stderr)
    report["summary"] = summary_of(report["subjects"])
    value = report["summary"].get("ort_vs_torch_speedup_b1")
    report["targets"] = {
        "ort_vs_torch_speedup_b1": {
            "target": f">= {TARGET_SPEEDUP_B1}",
            "value": value,
            "met": None if value is None else value >= TARGET_SPEEDUP_B1,
        }
    }
    if report["summary"]:
        plot(report, png_path)
    finish(report, json_path, png_path if report["summary"] else None, started)
    failed = [name for name, subject in report["subjects"].items() if "error" in subject]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
