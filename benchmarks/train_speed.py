"""Training speed: steps/s, images/s and peak memory of the real training loop.

Settings: the `cpu` preset (64x64, its own batch; background, frozen-background and joint
phases) and the paper's models (Table 6-8) with random-init backbones: the U-Net and a
Segformer-B3-sized network, at 64x64 (K = 6) and 128x128 (K = 10). Each measurement runs
`training.trainer.train` in its own process (so peak memory is its own) on synthetic
scenes; the first `--warmup` steps are excluded, the rest are split into `--repeats`
groups and reported as min / median seconds per step over the groups.

    python benchmarks/train_speed.py                  # CPU, writes results/train_speed.json
    python benchmarks/train_speed.py --device cuda    # the paper's batch 64 on a GPU

The paper settings use batch `--paper-batch` (default 8 on CPU, where batch 64 of B3 at
128x128 would take minutes per step; 64 on CUDA): images/s is the comparable figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "train_speed.json"
# Segformer-B3 (nvidia/mit-b3) sizes, randomly initialised (no download here).
B3 = {
    "hidden_sizes": [64, 128, 320, 512],
    "depths": [3, 4, 18, 3],
    "num_attention_heads": [1, 2, 5, 8],
    "decoder_hidden_size": 768,
}
# The scenario whose only phase is the one timed (background: `astseg train background`).
PHASE_SCENARIO = {"background": "curriculum", "frozen": "frozen_background", "joint": "baseline"}


def settings(device: str, paper_batch: int | None) -> dict[str, dict[str, Any]]:
    """name -> (preset, model overrides, batch, phases timed)."""
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


def git_revision() -> str:
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        return proc.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine(device: str) -> dict[str, Any]:
    import numpy
    import torch
    import transformers

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "load_average_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": numpy.__version__,
        "os": platform.platform(),
        "device": device,
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


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
    setting = settings(args.device, args.paper_batch)[name]
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
        proc = subprocess.run(command, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            return {"phase": phase, "error": proc.stderr.strip().splitlines()[-1:]}
        return json.loads(result.read_text())


# ------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    parser.add_argument("--json", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--counts", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args)
        return
    if args.warmup < 1 or args.repeats < 1 or args.paper_repeats < 1:
        parser.error("--warmup, --repeats and --paper-repeats must be at least 1")
    cores = len(os.sched_getaffinity(0))
    cpu_threads = args.cpu_threads or sorted({cores, 1}, reverse=True)

    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "train_speed",
        "command": shlex.join([sys.executable, *sys.argv]),
        "git_revision": git_revision(),
        "machine": machine(args.device),
        "note": "CPU figures on a shared machine drift between runs; compare ratios measured "
        "in one run. Paper settings use random-init backbones.",
        "settings": {},
    }
    for name, setting in settings(args.device, args.paper_batch).items():
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
    report["wall_s"] = time.perf_counter() - started
    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.json.with_name(f".{args.json.name}.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, args.json)
    print(json.dumps(report["summary"], indent=2))


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
    summary["train_steps_per_s_phase"] = "joint (full model, background trained too)"
    return summary


if __name__ == "__main__":
    main()
