"""The whole pipeline: `astseg run` end-to-end FPS against inference-only FPS, same bundle.

A 640x480 synthetic fixed-camera clip (mp4v) goes through exactly what `astseg run
--video CLIP --model BUNDLE --out annotated.mp4` does (sdk.run_command.run_command):
decode -> resize -> infer -> map masks back -> track -> draw -> encode, in the runtime's
three threads (decode: decode, pre | inference: infer | output: post, track, draw, encode).
Between runs, in the same process, the same bundle's backend is timed alone on the same
clip's frames at batch 1 (warm-up excluded): the inference-only FPS. Both use the
runtime's defaults (ONNX Runtime on all usable cores); `--threads N` runs the pipeline
as `astseg run --threads N` while the inference-only baseline keeps the default. Each
repeat pairs one run with one inference-only measurement; the ratio is taken per pair.

End-to-end FPS counts from the first frame entering the pipeline to the last written
(model load excluded). Targets: end-to-end >= 85 % of inference-only; the default bundle
>= 30 FPS on 2 CPU cores.

    python benchmarks/pipeline.py                      # the default bundle
    python benchmarks/pipeline.py --bundle bundles/cam1 --frames 600
    python benchmarks/pipeline.py --threads 1          # the pipeline's model on one thread
    python benchmarks/pipeline.py --encoder mp4v       # only mp4v (default: H.264 and mp4v)
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    PIPELINE_THREADS,
    base_parser,
    finish,
    fmt,
    header,
    output_paths,
    path_arg,
    plot_footer,
    pyplot,
    save_figure,
    stats,
    stats_ms,
    time_call,
    work_dir,
)
from encoders import add_encoder_arg, main_codec, record_pair, summarise_encoders  # noqa: E402
from subjects import runtime_bundle, scene_for, write_clip  # noqa: E402

STAGE_COLOURS = {
    "decode": "#bbbbbb",
    "pre": "#9ecae1",
    "infer": "#1f77b4",
    "post": "#6baed6",
    "track": "#c6dbef",
    "draw": "#fdae6b",
    "encode": "#e6550d",
}
TARGET_RATIO, TARGET_FPS, TARGET_CORES = 0.85, 30.0, 2


def parse_args(argv: list[str] | None) -> Any:
    parser = base_parser(__doc__)
    parser.add_argument("--bundle", type=path_arg, help="bundle (default: the default one)")
    parser.add_argument("--checkpoint", type=path_arg, help="exported here when there is no bundle")
    parser.add_argument("--frames", type=int, help="clip length (300)")
    parser.add_argument("--size", default="640x480", help="clip size WxH (640x480)")
    parser.add_argument("--repeats", type=int, help="pipeline runs, each paired (3)")
    parser.add_argument("--infer-calls", type=int, help="timed inference calls per repeat (200)")
    parser.add_argument(
        "--threads",
        type=int,
        help="astseg run --threads N for the end-to-end run only (default: the runtime's)",
    )
    add_encoder_arg(parser)
    args = parser.parse_args(argv)
    args.frames = args.frames or (20 if args.quick else 300)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.infer_calls = args.infer_calls or (10 if args.quick else 200)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size {args.size!r} must look like 640x480")
    args.width, args.height = width, height
    if min(args.frames, args.repeats, args.infer_calls, width, height) < 1:
        parser.error("--frames, --repeats, --infer-calls and the size must be positive")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be positive")
    return args


def first_frames(clip: Path, count: int) -> list[Any]:
    """Decoded BGR frames, as the runtime's video source hands them over."""
    import cv2

    capture = cv2.VideoCapture(str(clip))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def inference_only(seg: Any, frames: list[Any], calls: int) -> list[float]:
    """Seconds per backend call at batch 1 on the clip's frames (pre-processed beforehand)."""
    from sdk.preprocess import to_model_input

    spec = seg.spec
    inputs = itertools.cycle(
        [to_model_input(f, spec.image_height, spec.image_width)[None] for f in frames]
    )
    return time_call(lambda: seg.backend.run(next(inputs)), repeats=calls, warmup=5)


def run_once(clip: Path, bundle: str, out: Path, threads: int | None, codec: str = "auto") -> Any:
    from sdk.outputs import OutputOptions
    from sdk.run_command import run_command

    return run_command(
        video=str(clip),
        model=bundle,
        outputs=OutputOptions(out=out, codec=codec),
        progress=False,
        threads=threads,
    )


def thread_load(stages: dict[str, float]) -> dict[str, float]:
    return {
        t: round(sum(stages.get(s, 0.0) for s in names), 3) for t, names in PIPELINE_THREADS.items()
    }


def plot(report: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    s = report["summary"]
    stages = report["stages_ms_median"]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [2.2, 1]}
    )
    for row, names in enumerate(PIPELINE_THREADS.values()):
        x = 0.0
        for stage in names:
            ms = stages.get(stage, 0.0)
            left.barh(row, ms, left=x, color=STAGE_COLOURS[stage], edgecolor="white")
            if ms >= 0.04 * max(s["frame_ms"], 1e-9):
                left.text(
                    x + ms / 2, row, f"{stage}\n{fmt(ms)}", ha="center", va="center", fontsize=7
                )
            x += ms
    left.axvline(s["frame_ms"], color="black", ls="--", lw=1)
    left.text(s["frame_ms"], 2.45, f" frame period {fmt(s['frame_ms'])} ms", fontsize=7)
    alone_ms = 1000 / s["inference_only_fps"]
    left.axvline(alone_ms, color="#1f77b4", ls=":", lw=1)
    left.text(alone_ms, -0.45, f" inference alone {fmt(alone_ms)} ms", fontsize=7, color="#1f77b4")
    left.set_yticks(range(len(PIPELINE_THREADS)))
    left.set_yticklabels([f"{t} thread" for t in PIPELINE_THREADS])
    left.invert_yaxis()
    left.set_xlabel("milliseconds per frame (mean per stage, median over repeats)")
    left.set_title("where the time goes (stages of one thread run one after another)", loc="left")
    labels = ["astseg run\nend to end", "inference\nonly"]
    values = [s["end_to_end_fps"], s["inference_only_fps"]]
    bars = right.bar(labels, values, color=["#e6550d", "#1f77b4"], width=0.6)
    for bar, value in zip(bars, values, strict=True):
        right.text(bar.get_x() + bar.get_width() / 2, value, fmt(value), ha="center", va="bottom")
    right.axhline(TARGET_FPS, color="grey", ls="--", lw=1)
    right.text(
        1.45, TARGET_FPS, f"{TARGET_FPS:.0f} FPS target", fontsize=7, va="bottom", ha="right"
    )
    right.set_ylabel("frames per second")
    ratio = s["pipeline_vs_inference_ratio"]
    right.set_title(f"end to end = {ratio:.0%} of inference only (target 85 %)", loc="left")
    fig.suptitle(
        f"astseg run on a {report['clip']['size']} clip: {report['bundle']['origin']}", fontsize=10
    )
    fig.tight_layout()
    save_figure(fig, path, plot_footer(report))


def summarise(report: dict[str, Any]) -> None:
    """Medians over the repeats, where the time goes, the summary and the targets."""
    runs = report["runs"]
    stages = {
        s: round(statistics.median(r["stages_ms"].get(s, 0.0) for r in runs), 3)
        for s in runs[0]["stages_ms"]
    }
    report["stages_ms_median"] = stages
    report["thread_ms_median"] = thread_load(stages)
    e2e = stats([r["end_to_end_fps"] for r in runs], 2)
    alone_fps = stats([r["inference_only_fps"] for r in runs], 2)
    ratios = stats([r["ratio"] for r in runs])
    busiest = max(report["thread_ms_median"].items(), key=lambda kv: kv[1])
    report["end_to_end_fps"], report["inference_only_fps"], report["ratio"] = e2e, alone_fps, ratios
    cores = report["machine"]["cores"]
    report["summary"] = {
        "end_to_end_fps": e2e["median"],
        "inference_only_fps": alone_fps["median"],
        "pipeline_vs_inference_ratio": ratios["median"],
        "frame_ms": round(1000.0 / e2e["median"], 3),
        "infer_ms_in_pipeline": stages.get("infer"),
        "busiest_thread": busiest[0],
        "busiest_thread_ms": busiest[1],
        "cores": cores,
    }
    report["targets"] = {
        "pipeline_vs_inference_ratio": {
            "target": f">= {TARGET_RATIO}",
            "value": ratios["median"],
            "met": ratios["median"] >= TARGET_RATIO,
        },
        "end_to_end_fps": {
            "target": f">= {TARGET_FPS:.0f} on {TARGET_CORES} cores",
            "value": e2e["median"],
            "met": e2e["median"] >= TARGET_FPS if cores == TARGET_CORES else None,
            "cores": cores,
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    json_path, png_path = output_paths(args, "pipeline")
    started = time.perf_counter()
    from sdk import Segmenter

    report = header("pipeline", args.quick, argv)
    with work_dir("pipeline") as tmp:
        work = Path(tmp)
        subject = runtime_bundle(args.bundle, args.checkpoint, work, args.quick)
        bundle = subject["bundle"]
        scene = scene_for(Path(bundle), args.height, args.width)
        clip = write_clip(work / "clip.mp4", scene, args.frames)
        frames = first_frames(clip, 30)
        seg = Segmenter(bundle)
        report["bundle"] = {**subject, "backend": seg.backend_description}
        threads = f" --threads {args.threads}" if args.threads else ""
        report["clip"] = {
            "size": f"{args.width}x{args.height}",
            "frames": args.frames,
            "scene": {"background": scene.background, "max_objects": scene.max_objects},
            "command": f"astseg run --video CLIP --model {bundle} --out annotated.mp4 --quiet"
            + threads,
        }
        runs = []
        for r in range(args.repeats):
            codec = main_codec(args.encoder)
            summary = run_once(clip, bundle, work / f"annotated{r}.mp4", args.threads, codec)
            alone = inference_only(seg, frames, args.infer_calls)
            infer_fps = 1000.0 / stats_ms(alone)["median_ms"]
            runs.append(
                {
                    "end_to_end_fps": round(summary.fps, 2),
                    "frames": summary.frames,
                    "seconds": round(summary.seconds, 3),
                    "stages_ms": summary.stages_ms,
                    "outputs": summary.outputs,
                    "inference_only": stats_ms(alone),
                    "inference_only_fps": round(infer_fps, 2),
                    "ratio": round(summary.fps / infer_fps, 4),
                }
            )
            print(f"repeat {r + 1}: {summary.line()}; inference only {infer_fps:.1f} FPS")
            if args.encoder == "both":
                mp4v = run_once(clip, bundle, work / f"mp4v{r}.mp4", args.threads, "mp4v")
                record_pair(runs[-1], mp4v)
                print(f"repeat {r + 1}, mp4v: {mp4v.line()}")
        seg.close()
    report["runs"] = runs
    summarise(report)
    summarise_encoders(report, args.encoder)
    plot(report, png_path)
    finish(report, json_path, png_path, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
