"""Footprint on the edge: bundle size, `import sdk` time, time to first result, peak memory.

Each figure comes from fresh processes, as an edge box starts them:
- bundle size: every file of the bundle folder (manifest and graphs; the fused
  segmenter.onnx holds a second copy of the encoder's weights, so the files are listed);
- `import sdk`: a new interpreter imports the package (`--repeats` times; it must not
  pull in torch, which is checked);
- time to first result: a new interpreter imports sdk, loads the bundle into a
  Segmenter and segments one 640x480 frame; timed inside the process from its first
  statement (interpreter start-up is reported apart, as `process_wall_s`);
- peak resident memory of `astseg run --video CLIP --model BUNDLE --out annotated.mp4
  --quiet` on a 640x480 synthetic clip (the CLI itself, in its own process; wait4's
  ru_maxrss), for the default bundle and for a Segformer-B3-sized 128x128 bundle.
MB here is 10^6 bytes for files and MiB (2^20) for memory, as `ls` and `ps` show them.
Targets: bundle <= 10 MB, `astseg run` <= 400 MB on the CPU.

    python benchmarks/footprint.py                       # the default bundle
    python benchmarks/footprint.py --bundle bundles/cam1 --b3-bundle bundles/b3
"""

from __future__ import annotations

import json
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
    stats,
    work_dir,
)
from subjects import (  # noqa: E402
    export_bundles,
    has_bundle,
    manifest,
    runtime_bundle,
    scene_for,
    write_clip,
)

TARGET_BUNDLE_MB, TARGET_RSS_MB = 10.0, 400.0

IMPORT_PROBE = """
import json, sys, time
start = time.perf_counter()
import sdk
seconds = time.perf_counter() - start
print(json.dumps({"import_s": seconds, "torch_imported": "torch" in sys.modules}))
"""

FIRST_RESULT_PROBE = """
import time
start = time.perf_counter()
import json, sys
import numpy as np
from sdk import Segmenter
imported = time.perf_counter()
seg = Segmenter(sys.argv[1])
loaded = time.perf_counter()
result = seg(np.load(sys.argv[2]))
done = time.perf_counter()
print(json.dumps({"import_s": imported - start, "load_s": loaded - imported,
                  "first_frame_s": done - loaded, "first_result_s": done - start,
                  "objects": len(result.objects), "backend": seg.backend_description,
                  "torch_imported": "torch" in sys.modules}))
"""


def parse_args(argv: list[str] | None) -> Any:
    parser = base_parser(__doc__)
    parser.add_argument("--bundle", type=path_arg, help="bundle (default: the default one)")
    parser.add_argument("--checkpoint", type=path_arg, help="exported here when there is no bundle")
    parser.add_argument("--b3-bundle", type=path_arg, help="a B3-sized bundle (default: made here)")
    parser.add_argument("--skip-b3", action="store_true", help="only the default bundle")
    parser.add_argument("--repeats", type=int, help="fresh processes per figure (5)")
    parser.add_argument("--frames", type=int, help="clip length for astseg run (150)")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 5)
    args.frames = args.frames or (8 if args.quick else 150)
    if min(args.repeats, args.frames) < 1:
        parser.error("--repeats and --frames must be at least 1")
    return args


def bundle_files(bundle: Path) -> dict[str, Any]:
    files = {p.name: p.stat().st_size for p in sorted(bundle.iterdir()) if p.is_file()}
    total = sum(files.values())
    return {"files_bytes": files, "bytes": total, "mb": round(total / 1e6, 3)}


def python_probe(code: str, *args: str) -> tuple[dict[str, Any], float, float]:
    """(its JSON, process wall seconds, peak RSS MiB) of `python -c CODE ARGS` in a new process."""
    child = run_child([sys.executable, "-c", code, *args]).check("a probe process")
    return child.last_json(), child.wall_s, child.peak_rss_mb


def import_time(repeats: int) -> dict[str, Any]:
    runs = [python_probe(IMPORT_PROBE) for _ in range(repeats)]
    return {
        "import_s": stats([r[0]["import_s"] for r in runs]),
        "process_wall_s": stats([r[1] for r in runs]),
        "peak_rss_mb": stats([r[2] for r in runs], 1),
        "torch_imported": any(r[0]["torch_imported"] for r in runs),
    }


def first_result(bundle: Path, frame: Path, repeats: int) -> dict[str, Any]:
    runs = [python_probe(FIRST_RESULT_PROBE, str(bundle), str(frame)) for _ in range(repeats)]
    out = {
        key: stats([r[0][key] for r in runs])
        for key in ("import_s", "load_s", "first_frame_s", "first_result_s")
    }
    out["process_wall_s"] = stats([r[1] for r in runs])
    out["peak_rss_mb"] = stats([r[2] for r in runs], 1)
    out["backend"] = runs[0][0]["backend"]
    out["torch_imported"] = any(r[0]["torch_imported"] for r in runs)
    return out


def run_rss(bundle: Path, clip: Path, out: Path, repeats: int) -> dict[str, Any]:
    """Peak RSS of the `astseg run` CLI process (python -m cli = the `astseg` entry point)."""
    command = [
        sys.executable,
        "-m",
        "cli",
        "run",
        "--video",
        str(clip),
        "--model",
        str(bundle),
        "--out",
        str(out),
        "--quiet",
    ]
    runs = [run_child(command).check("astseg run") for _ in range(repeats)]
    return {
        "command": f"astseg run --video CLIP --model {bundle} --out annotated.mp4 --quiet",
        "peak_rss_mb": stats([r.peak_rss_mb for r in runs], 1),
        "process_wall_s": stats([r.wall_s for r in runs]),
        "closing_line": runs[-1].stdout.strip().splitlines()[-1] if runs[-1].stdout else "",
    }


def plot(report: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    s = report["summary"]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    ax = axes[0]
    files = report["default"]["bundle"]["files_bytes"]
    bottom = 0.0
    colours = {"encoder.onnx": "#1f77b4", "renderer.onnx": "#6baed6", "segmenter.onnx": "#9ecae1"}
    for name, size in files.items():
        mb = size / 1e6
        ax.bar(0, mb, bottom=bottom, color=colours.get(name, "#cccccc"), width=0.5)
        if mb > 0.03 * s["bundle_mb"]:
            ax.text(0, bottom + mb / 2, f"{name} {fmt(mb)}", ha="center", va="center", fontsize=7)
        bottom += mb
    ax.axhline(TARGET_BUNDLE_MB, color="grey", ls="--", lw=1)
    ax.text(0.3, TARGET_BUNDLE_MB, "10 MB target", fontsize=7, va="bottom")
    ax.set_xlim(-0.6, 0.9)
    ax.set_xticks([])
    ax.set_ylabel("MB on disk")
    ax.set_title(f"default bundle: {fmt(s['bundle_mb'])} MB", loc="left")
    ax = axes[1]
    parts = report["default"]["first_result"]
    names = ["import_s", "load_s", "first_frame_s"]
    values = [parts[n]["median"] for n in names]
    left = 0.0
    for name, value, colour in zip(names, values, ["#bbbbbb", "#6baed6", "#1f77b4"], strict=True):
        ax.barh(0, value, left=left, color=colour, label=name.removesuffix("_s").replace("_", " "))
        left += value
    ax.barh(1, report["import_sdk"]["import_s"]["median"], color="#bbbbbb")
    ax.set_yticks([0, 1])
    ax.set_yticklabels(["first result", "import sdk"])
    ax.invert_yaxis()
    ax.set_xlabel("seconds in a fresh process (median)")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.set_title(f"time to first result: {fmt(s['first_result_s'])} s", loc="left")
    ax = axes[2]
    labels, values = ["default bundle"], [s["run_peak_rss_mb"]]
    if s.get("b3_run_peak_rss_mb") is not None:
        h, w = report["segformer_b3_128"]["image_size"]
        labels.append(
            f"Segformer-B3-sized\n{h}x{w}" + (" (quick stand-in)" if report["quick"] else "")
        )
        values.append(s["b3_run_peak_rss_mb"])
    bars = ax.bar(labels, values, color=["#1f77b4", "#9a9a9a"][: len(values)], width=0.55)
    for bar, value in zip(bars, values, strict=True):
        ax.text(bar.get_x() + bar.get_width() / 2, value, fmt(value), ha="center", va="bottom")
    ax.axhline(TARGET_RSS_MB, color="grey", ls="--", lw=1)
    ax.text(-0.3, TARGET_RSS_MB, "400 MB target", fontsize=7, va="bottom")
    ax.set_ylabel("peak resident memory, MiB")
    ax.set_title("astseg run on a 640x480 clip", loc="left")
    fig.tight_layout()
    save_figure(fig, path, plot_footer(report))


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    args = parse_args(argv)
    json_path, png_path = output_paths(args, "footprint")
    started = time.perf_counter()
    report = header("footprint", args.quick, argv)
    with work_dir("footprint") as tmp:
        work = Path(tmp)
        subject = runtime_bundle(args.bundle, args.checkpoint, work, args.quick)
        bundle = Path(subject["bundle"])
        scene = scene_for(bundle, 480, 640)
        clip = write_clip(work / "clip.mp4", scene, args.frames)
        frame = work / "frame.npy"
        from training.data import SyntheticVideo

        np.save(frame, SyntheticVideo(scene, 40).render(20)[0][:, :, ::-1].copy())  # BGR
        print("import sdk ...", flush=True)
        report["import_sdk"] = import_time(args.repeats)
        print("default bundle ...", flush=True)
        report["default"] = {
            **subject,
            "bundle": bundle_files(bundle),
            "first_result": first_result(bundle, frame, args.repeats),
            "astseg_run": run_rss(bundle, clip, work / "annotated.mp4", args.repeats),
        }
        if not args.skip_b3:
            print("Segformer-B3-sized bundle ...", flush=True)
            if args.b3_bundle is not None:
                if not has_bundle(args.b3_bundle):
                    raise SystemExit(f"--b3-bundle {args.b3_bundle} is not a bundle folder")
                b3 = {"bundle": str(args.b3_bundle), "origin": f"bundle {args.b3_bundle}"}
            else:
                model = "quick-large" if args.quick else "b3-128"
                b3 = export_bundles([{"out": str(work / "b3"), "model": model}])[0]
            b3_path = Path(b3["bundle"])
            b3_clip = write_clip(work / "clip_b3.mp4", scene, max(4, args.frames // 5))
            model = manifest(b3_path)["model"]
            report["segformer_b3_128"] = {
                **b3,
                "image_size": [model["image_height"], model["image_width"]],
                "bundle": bundle_files(b3_path),
                "astseg_run": run_rss(b3_path, b3_clip, work / "b3.mp4", min(args.repeats, 3)),
            }
    d = report["default"]
    summary = {
        "bundle_mb": d["bundle"]["mb"],
        "import_sdk_s": report["import_sdk"]["import_s"]["median"],
        "first_result_s": d["first_result"]["first_result_s"]["median"],
        "run_peak_rss_mb": d["astseg_run"]["peak_rss_mb"]["max"],
        "sdk_imports_torch": report["import_sdk"]["torch_imported"]
        or d["first_result"]["torch_imported"],
    }
    if "segformer_b3_128" in report:
        b3r = report["segformer_b3_128"]
        summary["b3_bundle_mb"] = b3r["bundle"]["mb"]
        summary["b3_run_peak_rss_mb"] = b3r["astseg_run"]["peak_rss_mb"]["max"]
    report["summary"] = summary
    report["targets"] = {
        "bundle_mb": {
            "target": f"<= {TARGET_BUNDLE_MB}",
            "value": summary["bundle_mb"],
            "met": summary["bundle_mb"] <= TARGET_BUNDLE_MB,
        },
        "run_peak_rss_mb": {
            "target": f"<= {TARGET_RSS_MB}",
            "value": summary["run_peak_rss_mb"],
            "met": summary["run_peak_rss_mb"] <= TARGET_RSS_MB,
        },
    }
    print(json.dumps(report["targets"]))
    plot(report, png_path)
    finish(report, json_path, png_path, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
