"""Runs several `cpu_recipe.py` recipes side by side (one process each) until a deadline.

Made for one short call on a GPU machine: every process gets the same wall-clock deadline,
evaluates every `--eval-every` steps and rewrites its JSON curve after each evaluation, so
whatever was reached comes back. The sweep measures steps-to-quality per recipe; the bar
itself is wall time on 2 CPU cores, so convert with a CPU speed measurement.

    python benchmarks/research/gpu_sweep.py --out "$OUT" --seconds 330 --device cuda

`--only a,b` runs a subset; `--smoke` runs a few steps of each on the CPU to test the script.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Base recipe B (see docs/cpu-recipe.md): frozen pre-trained background, object-sized
# glimpses, visible slots, coverage loss; each variant changes one or two things.
BASE = [
    "--set", "train.background_steps=300",
    "--set", "train.background_batch_size=32",
    "--set", "model.s_max=8",
    "--set", "model.slot_activation_init=11",
    "--set", "train.coverage_weight=1",
    "--set", "train.coverage_steps=3000",
    "--set", "train.lr=4e-4",
    "--set", "train.lr_warmup_steps=250",
    "--set", "train.pixel_entropy_warmup_steps=3000",
]  # fmt: skip

VARIANTS: dict[str, list[str]] = {
    "base": [],
    "lr1e-3": ["--set", "train.lr=1e-3"],
    "lr2e-4": ["--set", "train.lr=2e-4"],
    "no_coverage": ["--set", "train.coverage_weight=0"],
    "smax24": ["--set", "model.s_max=24"],
    "cov_long": ["--set", "train.coverage_steps=8000"],
    "cov_w3": ["--set", "train.coverage_weight=3"],
    "glimpse_lr3": ["--lr-scale", "glimpse=3", "--lr-scale", "alpha0=3"],
    "no_transformer": ["--set", "model.use_transformer=false"],
    "residual_refiner": ["--residual-refiner"],
    "K5": ["--set", "model.num_slots=5"],
    "paper_lr2e-4": [
        "--set",
        "model.s_max=24",
        "--set",
        "model.slot_activation_init=0",
        "--set",
        "train.coverage_weight=0",
        "--set",
        "train.lr=2e-4",
    ],  # fmt: skip
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=330.0, help="deadline from start")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=20_000, help="schedule length")
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--only", default="", help="comma-separated variant names")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()

    names = [n for n in args.only.split(",") if n] or list(VARIANTS)
    args.out.mkdir(parents=True, exist_ok=True)
    stop_at = time.time() + args.seconds
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = {}
    for name in names:
        cmd = [
            sys.executable,
            str(HERE / "cpu_recipe.py"),
            "--device", args.device,
            "--threads", "1",
            "--steps", str(args.steps),
            "--eval-every", str(args.eval_every),
            "--stop-at", str(stop_at),
            "--out", str(args.out / f"{name}.json"),
            "--sheet", str(args.out / f"{name}.png"),
            *BASE,
            *VARIANTS[name],
        ]  # fmt: skip
        if args.smoke:
            cmd += ["--steps", "6", "--eval-every", "3", "--eval-images", "40"]
            cmd += ["--set", "train.background_steps=2", "--train-scenes", "200"]
        log = open(args.out / f"{name}.log", "w")  # noqa: SIM115 (closed below)
        procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), log)
    summary = {}
    for name, (proc, log) in procs.items():
        try:
            proc.wait(timeout=max(1.0, stop_at + 30 - time.time()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        path = args.out / f"{name}.json"
        if path.exists():
            record = json.loads(path.read_text())
            summary[name] = {
                "returncode": proc.returncode,
                "steps": record["curve"][-1]["step"],
                "curve": [
                    {k: e.get(k) for k in ("step", "ari_fg", "miou_fg", "mse", "slots_used")}
                    for e in record["curve"]
                ],
            }
        else:
            summary[name] = {"returncode": proc.returncode, "steps": 0, "curve": []}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    for name, item in summary.items():
        last = item["curve"][-1] if item["curve"] else {}
        print(name, item["returncode"], item["steps"], last)


if __name__ == "__main__":
    main()
