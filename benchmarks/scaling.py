"""Cost growth: inference latency and memory against image size and against K (slots).

Models: the default bundle's architecture (the config of `--checkpoint`, else the default
bundle's astseg.json, else the `cpu` preset) with random weights, exported at image sides
64, 128, 256 (K = 6) and at K = 3, 6, 10, 20 (64x64); the glimpse size follows the
paper's Table 7 rule (32 px up to 64, 64 up to 128, then 128). Each point is measured in
its own process, through the runtime as users run it (ONNX Runtime, all usable cores):
  infer_ms     the backend on one frame (batch 1), warm-up excluded
  frame_ms     `seg(frame)` on a 640x480 frame: resize, infer, masks mapped back, track
  peak_rss_mb  the peak resident memory of that process (import, load, both loops)
The points run `--rounds` times in an order that rotates each round; figures are the
median over rounds. The reading of each curve is a least-squares fit: latency against
pixels on log-log axes (the exponent), latency against K on linear axes (ms per slot).

    python benchmarks/scaling.py
    python benchmarks/scaling.py --checkpoint runs/default/checkpoints/best.pt --rounds 3
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    base_parser,
    finish,
    fmt,
    header,
    output_paths,
    path_arg,
    plot_footer,
    pyplot,
    run_child,
    save_figure,
    self_peak_rss_mb,
    stats_ms,
    time_call,
    work_dir,
)
from subjects import DEFAULT_BUNDLE, export_bundles, has_bundle  # noqa: E402

SIZES, KS, SIZE_K, K_SIDE = (64, 128, 256), (3, 6, 10, 20), 6, 64
QUICK_SIZES, QUICK_KS, QUICK_SIZE_K, QUICK_K_SIDE = (32, 64), (2, 3), 3, 64


def parse_args(argv: list[str] | None) -> Any:
    parser = base_parser(__doc__)
    parser.add_argument("--checkpoint", type=path_arg, help="whose architecture to scale")
    parser.add_argument("--rounds", type=int, help="passes over all points (2)")
    parser.add_argument("--calls", type=int, help="timed calls per point and pass (50)")
    parser.add_argument("--worker", type=path_arg, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 2)
    args.calls = args.calls or (5 if args.quick else 50)
    if min(args.rounds, args.calls) < 1:
        parser.error("--rounds and --calls must be at least 1")
    return args


# ------------------------------------------------------------------ one point, in its own process
def synthetic_frame(height: int = 480, width: int = 640) -> Any:
    """A 640x480 BGR frame: a shaded background and a few discs (no training import)."""
    import cv2
    import numpy as np

    ys, xs = np.mgrid[0:height, 0:width]
    frame = np.stack([80 + 60 * xs / width, 90 + 50 * ys / height, 110 + 0 * xs], -1)
    frame = frame.astype(np.uint8)
    for i, colour in enumerate(((0, 0, 220), (0, 200, 0), (210, 60, 0))):
        cv2.circle(frame, (150 + 170 * i, 160 + 60 * i), 45 + 10 * i, colour, -1)
    return frame


def worker(bundle: Path, calls: int) -> None:
    from sdk import Segmenter
    from sdk.preprocess import to_model_input

    seg = Segmenter(bundle)
    frame = synthetic_frame()
    x = to_model_input(frame, seg.spec.image_height, seg.spec.image_width)[None]
    infer = time_call(lambda: seg.backend.run(x), repeats=calls, warmup=3)
    whole = time_call(lambda: seg(frame), repeats=calls, warmup=3)
    print(
        json.dumps(
            {
                "infer": stats_ms(infer),
                "frame": stats_ms(whole),
                "peak_rss_mb": self_peak_rss_mb(),
                "backend": seg.backend_description,
            }
        )
    )


# ------------------------------------------------------------------ the sweep
def points(quick: bool) -> dict[str, dict[str, int]]:
    sizes, ks = (QUICK_SIZES, QUICK_KS) if quick else (SIZES, KS)
    size_k, k_side = (QUICK_SIZE_K, QUICK_K_SIDE) if quick else (SIZE_K, K_SIDE)
    out = {f"{s}px_K{size_k}": {"side": s, "k": size_k} for s in sizes}
    out.update({f"{k_side}px_K{k}": {"side": k_side, "k": k} for k in ks})
    return out


def base_model(args: Any) -> str:
    if args.checkpoint is not None:
        return f"checkpoint:{args.checkpoint}"
    if has_bundle(DEFAULT_BUNDLE):
        return f"bundle:{DEFAULT_BUNDLE}"
    return "quick" if args.quick else "cpu"


def fit_power(xs: list[float], ys: list[float]) -> float:
    """Exponent b of y ~ x^b by least squares on log-log axes."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    den = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / den if den else 0.0


def fit_line(xs: list[float], ys: list[float]) -> float:
    """Slope of y = a + b x by least squares."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((a - mx) ** 2 for a in xs)
    return sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True)) / den if den else 0.0


def readings(size: list[dict[str, Any]], slots: list[dict[str, Any]]) -> dict[str, Any]:
    """The one-line reading of each curve, and the fitted numbers behind it."""
    px = [p["side"] ** 2 for p in size]
    exponent = fit_power(px, [p["infer_ms"] for p in size])
    growth = size[-1]["infer_ms"] / size[0]["infer_ms"]
    per_slot = fit_line([p["k"] for p in slots], [p["infer_ms"] for p in slots])
    k_growth = slots[-1]["infer_ms"] / slots[0]["infer_ms"]
    s0, s1, k0, k1 = size[0]["side"], size[-1]["side"], slots[0]["k"], slots[-1]["k"]
    return {
        "latency_vs_pixels_exponent": round(exponent, 3),
        "latency_per_slot_ms": round(per_slot, 4),
        "size": (
            f"Latency grows about as pixels^{exponent:.2f}: x{growth:.1f} from {s0}x{s0} to "
            f"{s1}x{s1} ({px[-1] / px[0]:.0f}x the pixels); peak memory "
            f"{fmt(size[0]['peak_rss_mb'])} -> {fmt(size[-1]['peak_rss_mb'])} MiB."
        ),
        "k": (
            f"Each extra slot adds {fmt(per_slot)} ms ({per_slot / slots[0]['infer_ms']:.0%} of "
            f"the K = {k0} latency): x{k_growth:.2f} from K = {k0} to {k1}; peak memory "
            f"{fmt(slots[0]['peak_rss_mb'])} -> {fmt(slots[-1]['peak_rss_mb'])} MiB."
        ),
    }


def plot(report: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    size = [report["points"][n] for n in report["sweep"]["size"]]
    slots = [report["points"][n] for n in report["sweep"]["k"]]
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4))
    for col, (points_, key, label) in enumerate(
        ((size, "side", "image side (pixels, log scale)"), (slots, "k", "slots K"))
    ):
        xs = [p[key] for p in points_]
        ax = axes[0][col]
        ax.plot(xs, [p["infer_ms"] for p in points_], "o-", color="#1f77b4", label="inference")
        ax.plot(
            xs,
            [p["frame_ms"] for p in points_],
            "s--",
            color="#e6550d",
            label="seg(frame), 640x480",
        )
        ax.set_ylabel("ms per frame (median)")
        ax.legend(fontsize=7, frameon=False)
        ax = axes[1][col]
        ax.plot(xs, [p["peak_rss_mb"] for p in points_], "o-", color="#6a51a3")
        ax.set_ylabel("peak resident memory, MiB")
        ax.set_xlabel(label)
        for row in (0, 1):
            axes[row][col].set_xticks(xs)
            if key == "side":
                axes[row][col].set_xscale("log", base=2)
                axes[row][col].set_xticks(xs, [str(x) for x in xs])
            axes[row][col].set_ylim(bottom=0)
            for x, p in zip(xs, points_, strict=True):
                value = p["infer_ms"] if row == 0 else p["peak_rss_mb"]
                axes[row][col].annotate(
                    fmt(value),
                    (x, value),
                    textcoords="offset points",
                    xytext=(0, 5),
                    ha="center",
                    fontsize=7,
                )
    r = report["readings"]
    axes[0][0].set_title(f"vs image size (K = {size[0]['k']})", loc="left")
    axes[0][1].set_title(f"vs K ({slots[0]['side']}x{slots[0]['side']})", loc="left")
    fig.suptitle(f"{r['size']}\n{r['k']}", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, plot_footer(report))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker is not None:
        worker(args.worker, args.calls)
        return 0
    json_path, png_path = output_paths(args, "scaling")
    started = time.perf_counter()
    report = header("scaling", args.quick, argv)
    grid = points(args.quick)
    base = base_model(args)
    report["base_model"] = base
    with work_dir("scaling") as tmp:
        jobs = [
            {
                "out": str(Path(tmp) / name),
                "model": base,
                "sets": [
                    f"model.image_height={p['side']}",
                    f"model.image_width={p['side']}",
                    f"model.num_slots={p['k']}",
                    "model.glimpse_size=null",
                ],
            }
            for name, p in grid.items()
        ]
        print(f"exporting {len(jobs)} models ({base}) ...", flush=True)
        exported = dict(zip(grid, export_bundles(jobs), strict=True))
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in grid}
        names = list(grid)
        for r in range(args.rounds):
            shift = r % len(names)
            for name in names[shift:] + names[:shift]:
                command = [
                    sys.executable,
                    __file__,
                    "--worker",
                    exported[name]["bundle"],
                    "--calls",
                    str(args.calls),
                ]
                runs[name].append(run_child(command).check(f"point {name}").last_json())
                print(f"  {name}: {runs[name][-1]['infer']['median_ms']:.2f} ms", flush=True)
    measured = {}
    for name, p in grid.items():
        rs = runs[name]
        measured[name] = {
            **p,
            "infer_ms": round(statistics.median(r["infer"]["median_ms"] for r in rs), 4),
            "infer_ms_min": round(min(r["infer"]["min_ms"] for r in rs), 4),
            "frame_ms": round(statistics.median(r["frame"]["median_ms"] for r in rs), 4),
            "peak_rss_mb": round(statistics.median(r["peak_rss_mb"] for r in rs), 1),
            "bundle_mb": round(sum(exported[name]["files"].values()) / 1e6, 3),
            "glimpse_size": exported[name]["model"]["glimpse_size"],
            "backend": rs[0]["backend"],
            "rounds": rs,
        }
    size_k = next(iter(grid.values()))["k"]
    k_side = list(grid.values())[-1]["side"]
    sweep = {
        "size": sorted(
            (n for n, m in measured.items() if m["k"] == size_k), key=lambda n: measured[n]["side"]
        ),
        "k": sorted(
            (n for n, m in measured.items() if m["side"] == k_side), key=lambda n: measured[n]["k"]
        ),
    }
    report["points"] = measured
    report["sweep"] = sweep
    report["readings"] = readings(
        [measured[n] for n in sweep["size"]], [measured[n] for n in sweep["k"]]
    )
    report["summary"] = {
        "latency_vs_pixels_exponent": report["readings"]["latency_vs_pixels_exponent"],
        "latency_per_slot_ms": report["readings"]["latency_per_slot_ms"],
        **{f"infer_ms_{name}": m["infer_ms"] for name, m in measured.items()},
        **{f"peak_rss_mb_{name}": m["peak_rss_mb"] for name, m in measured.items()},
        "reading_size": report["readings"]["size"],
        "reading_k": report["readings"]["k"],
    }
    plot(report, png_path)
    finish(report, json_path, png_path, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
