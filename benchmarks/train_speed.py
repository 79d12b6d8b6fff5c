"""Training speed: steps/s, images/s and peak memory of the real training loop.

Settings: the `cpu` preset (64x64, its own batch; background, frozen-background and joint
phases) and the paper's models (Table 6-8) with random-init backbones: the U-Net and a
Segformer-B3-sized network, at 64x64 (K = 6) and 128x128 (K = 10). Each measurement runs
`training.trainer.train` in its own process (so peak memory is its own) on synthetic
scenes; the first `--warmup` steps are excluded, the rest are split into `--repeats`
groups and reported as min / median seconds per step over the groups.

    python benchmarks/train_speed.py                  # CPU, writes results/train_speed.json
    python benchmarks/train_speed.py --device cuda    # the paper's batch 64 on a GPU
    python benchmarks/train_speed.py --quick          # seconds: the cpu preset, batch 4

The plot (docs/bench-training.png) shows steps/s per phase and images/s per setting,
with each measurement's peak resident memory.

The paper settings use batch `--paper-batch` (default 8 on CPU, where batch 64 of B3 at
128x128 would take minutes per step; 64 on CUDA): images/s is the comparable figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    DRIFT_NOTE,
    QUICK_NOTE,
    base_parser,
    finish,
    fmt,
    header,
    output_paths,
    plot_footer,
    pyplot,
    save_figure,
    usable_cores,
)
from subjects import MIT_B3 as B3  # noqa: E402  Segformer-B3 sizes, random init

# The scenario whose only phase is the one timed (background: `astseg train background`).
PHASE_SCENARIO = {"background": "curriculum", "frozen": "frozen_background", "joint": "baseline"}


def settings(
    device: str, paper_batch: int | None, quick: bool = False
) -> dict[str, dict[str, Any]]:
    """name -> (preset, model overrides, batch, phases timed); quick: the cpu preset's joint
    phase alone at batch 4."""
    if quick:
        return {"cpu_preset_64": {"preset": "cpu", "model": {}, "batch": 4, "phases": ["joint"]}}
    batch = paper_batch or (64 if device.startswith("cuda") else 8)
    paper = {
        "unet_64": ("shapestacks", {"feature_generator": "unet"}),
        "unet_128": ("clevr", {"feature_generator": "unet"}),
        "segformer_b3_64": ("shapestacks", {"backbone": None, "segformer_overrides": B3}),
        "segformer_b3_128": ("clevr", {"backbone": None, "segformer_overrides": B3}),
    }
    out: dict[str, dict[str, Any]] = {
        "cpu_preset_64": {
            "preset": "cpu",
            "model": {},
            "batch": None,
            "phases": ["background", "frozen", "joint"],
        }
    }
    for name, (preset, model) in paper.items():
        out[name] = {"preset": preset, "model": model, "batch": batch, "phases": ["joint"]}
    return out


# ------------------------------------------------------------------ one measurement
def measure(setting: dict[str, Any], phase: str, device: str, counts: dict[str, int]) -> dict:
    """Runs the trainer for one phase kind and times its steps (in this process)."""
    import torch

    from training.presets import preset_config
    from training.trainer import train

    warmup, repeats, per_repeat = counts["warmup"], counts["repeats"], counts["steps_per_repeat"]
    steps = warmup + repeats * per_repeat
    config = preset_config(setting["preset"])
    overrides: dict[str, Any] = {f"model.{k}": v for k, v in setting["model"].items()}
    if setting["batch"] is not None:
        overrides["train.batch_size"] = setting["batch"]
        overrides["train.background_batch_size"] = setting["batch"]
    overrides.update(
        {
            "train.scenario": PHASE_SCENARIO[phase],
            "train.steps": steps,
            "train.frozen_background_steps": 0,
            "train.background_steps": steps if phase == "background" else 0,
            "train.validation_images": 0,
            "train.checkpoint_every": 10**9,
            "train.keep_checkpoint_every": 0,
            "train.sample_every_s": 0.0,
        }
    )
    config = config.with_overrides(overrides)
    model = config.model
    batch = config.train.background_batch_size if phase == "background" else config.train.batch_size
    side = model.image_height
    data = f"synthetic:size={side},objects={model.num_slots},count=4096"
    stamps: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        train(
            config,
            data,
            Path(tmp) / "run",
            device=device,
            background_only=phase == "background",
            on_step=lambda record: stamps.append(time.perf_counter()),
            progress=False,
            echo=lambda line: None,
        )
        total = time.perf_counter() - start
    durations = [b - a for a, b in zip(stamps[:-1], stamps[1:], strict=True)][warmup - 1 :]
    groups = [
        statistics.fmean(durations[i * per_repeat : (i + 1) * per_repeat]) for i in range(repeats)
    ]
    result: dict[str, Any] = {
        "phase": phase,
        "batch": batch,
        "image_size": [model.image_height, model.image_width],
        "num_slots": model.num_slots,
        "feature_generator": model.feature_generator,
        "steps_timed": len(durations),
        "warmup_steps": warmup,
        "s_per_step_min": min(groups),
        "s_per_step_median": statistics.median(groups),
        "steps_per_s_median": 1.0 / statistics.median(groups),
        "steps_per_s_max": 1.0 / min(groups),
        "images_per_s_median": batch / statistics.median(groups),
        "run_wall_s": total,
        "threads": torch.get_num_threads(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if device.startswith("cuda"):
        result["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return result


def run_worker(args: argparse.Namespace) -> None:
    name, phase = args.worker.split("/")
    setting = settings(args.device, args.paper_batch, args.quick)[name]
    counts = json.loads(args.counts)
    Path(args.result).write_text(json.dumps(measure(setting, phase, args.device, counts)))


def run_in_subprocess(
    name: str, phase: str, args: argparse.Namespace, counts: dict, threads: int
) -> dict:
    """One measurement in a fresh process with `threads` torch threads (OMP_NUM_THREADS,
    which the trainer respects)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        command = [sys.executable, __file__, "--worker", f"{name}/{phase}", "--device", args.device]
        command += ["--counts", json.dumps(counts), "--result", str(result)]
        if args.paper_batch:
            command += ["--paper-batch", str(args.paper_batch)]
        if args.quick:
            command.append("--quick")
        proc = subprocess.run(command, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            return {"phase": phase, "error": proc.stderr.strip().splitlines()[-1:]}
        return json.loads(result.read_text())


# ------------------------------------------------------------------ main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = base_parser(__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--paper-batch", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=2, help="steps excluded (>= 1)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps-per-repeat", type=int, default=3, help="for the cpu preset")
    parser.add_argument("--paper-repeats", type=int, default=2)
    parser.add_argument("--paper-steps-per-repeat", type=int, default=1)
    parser.add_argument(
        "--cpu-threads",
        type=int,
        action="append",
        help="thread counts for the cpu preset (default: all cores, and 1 to compare)",
    )
    parser.add_argument("--only", action="append", default=[], help="setting names to run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--counts", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return args
    if args.warmup < 1 or args.repeats < 1 or args.paper_repeats < 1:
        parser.error("--warmup, --repeats and --paper-repeats must be at least 1")
    if args.quick:  # one warm-up step and one timed step at all cores: a check, not a result
        args.warmup, args.repeats, args.steps_per_repeat = 1, 1, 1
        args.cpu_threads = args.cpu_threads or [usable_cores()]
    return args


def main(argv: list[str] | None = None) -> int:
    """Exit status 1 when a measurement failed (its error is in the JSON)."""
    args = parse_args(argv)
    if args.worker:
        run_worker(args)
        return 0
    json_path, png_path = output_paths(args, "train_speed", "training")
    cores = usable_cores()
    cpu_threads = args.cpu_threads or sorted({cores, 1}, reverse=True)

    started = time.perf_counter()
    report: dict[str, Any] = header("train_speed", args.quick, argv)
    report["machine"]["device"] = args.device
    report["note"] = (QUICK_NOTE if args.quick else DRIFT_NOTE) + (
        " Paper settings use random-init backbones."
    )
    report["settings"] = {}
    for name, setting in settings(args.device, args.paper_batch, args.quick).items():
        if args.only and name not in args.only:
            continue
        cpu_preset = name.startswith("cpu")
        counts = {
            "warmup": args.warmup,
            "repeats": args.repeats if cpu_preset else args.paper_repeats,
            "steps_per_repeat": args.steps_per_repeat
            if cpu_preset
            else args.paper_steps_per_repeat,
        }
        results = {}
        for threads in cpu_threads if cpu_preset else [cores]:
            for phase in setting["phases"]:
                # The trainer's own default (threads = cores) under the plain phase name.
                key = phase if threads == cores else f"{phase}@{threads}_threads"
                print(f"{name} {key} ...", flush=True)
                results[key] = run_in_subprocess(name, phase, args, counts, threads)
                print(f"  {json.dumps(results[key])}", flush=True)
        report["settings"][name] = results
    report["summary"] = _summary(report["settings"])
    if report["summary"].get("train_steps_per_s") is not None:
        plot(report, png_path)
    else:
        png_path = None
    finish(report, json_path, png_path, started)
    failed = [
        f"{n}/{k}" for n, r in report["settings"].items() for k, v in r.items() if "error" in v
    ]
    if failed:
        print(f"train_speed: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def plot(report: dict[str, Any], path: Path) -> None:
    """Left: the cpu preset's steps/s per phase and thread count; right: images/s of every
    setting's joint phase; peak resident memory written on each bar."""
    plt = pyplot()
    cpu = report["settings"].get("cpu_preset_64", {})
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    keys = [k for k, v in cpu.items() if "steps_per_s_median" in v]
    values = [cpu[k]["steps_per_s_median"] for k in keys]
    bars = left.barh(
        range(len(keys)), values, color=["#1f77b4" if "@" not in k else "#9ecae1" for k in keys]
    )
    for bar, key in zip(bars, keys, strict=True):
        m = cpu[key]
        left.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {fmt(m['steps_per_s_median'])} steps/s, batch {m['batch']}, "
            f"{fmt(m['peak_rss_mb'])} MiB",
            va="center",
            fontsize=7,
        )
    left.set_yticks(range(len(keys)))
    left.set_yticklabels([k.replace("@", " @ ").replace("_threads", " thread(s)") for k in keys])
    left.invert_yaxis()
    left.set_xlim(0, max(values) * 1.9)
    left.set_xlabel("training steps per second (median over repeats)")
    left.set_title("cpu preset (64x64, K = 4), by phase", loc="left")
    names = [
        n for n, v in report["settings"].items() if "images_per_s_median" in v.get("joint", {})
    ]
    values = [report["settings"][n]["joint"]["images_per_s_median"] for n in names]
    bars = right.barh(range(len(names)), values, color="#6a51a3")
    for bar, name in zip(bars, names, strict=True):
        m = report["settings"][name]["joint"]
        right.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {fmt(m['images_per_s_median'])} img/s, batch {m['batch']}, "
            f"{fmt(m['peak_rss_mb'])} MiB",
            va="center",
            fontsize=7,
        )
    right.set_yticks(range(len(names)))
    right.set_yticklabels(names)
    right.invert_yaxis()
    right.set_xscale("log")
    right.set_xlim(min(values) / 2, max(values) * 40)
    right.set_xlabel("images per second, joint phase (log scale)")
    right.set_title(f"every setting on {report['machine']['device']}", loc="left")
    fig.tight_layout()
    save_figure(fig, path, plot_footer(report))


def _summary(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Headline figures: the cpu preset's joint-phase speed is `train_steps_per_s`."""
    cpu = results.get("cpu_preset_64", {})
    summary: dict[str, Any] = {}
    for key, value in cpu.items():
        if "steps_per_s_median" not in value:
            continue
        phase, _, threads = key.partition("@")
        suffix = ("" if phase == "joint" else f"_{phase}") + (f"_{threads}" if threads else "")
        summary[f"train_steps_per_s{suffix}"] = value["steps_per_s_median"]
        summary[f"train_images_per_s{suffix}"] = value["images_per_s_median"]
    one = summary.get("train_steps_per_s_1_threads")
    if one and "train_steps_per_s" in summary and "joint@1_threads" in cpu:
        summary["one_thread_vs_all_cores_joint"] = one / summary["train_steps_per_s"]
    for name, value in results.items():
        if name != "cpu_preset_64" and "images_per_s_median" in value.get("joint", {}):
            summary[f"{name}_images_per_s"] = value["joint"]["images_per_s_median"]
    joint = cpu.get("joint", {})
    if "peak_rss_mb" in joint:
        summary["train_peak_rss_mb"] = joint["peak_rss_mb"]
    summary["train_steps_per_s_phase"] = "joint (full model, background trained too)"
    return summary


if __name__ == "__main__":
    sys.exit(main())
