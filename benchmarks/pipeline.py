"""The whole pipeline at camera sizes: `astseg run` end to end, its stages, and cameras per box.

Synthetic fixed-camera clips (mp4v) at 640x480, 1280x720 and 1920x1080 go through exactly
what `astseg run --video CLIP --model BUNDLE --out annotated.mp4 --json objects.jsonl` does
(sdk.run.run_command.run_command): decode -> resize -> infer -> map masks back -> track -> draw
-> encode (video and JSON), in the runtime's three threads (decode: decode, pre |
inference: infer | output: post, track, draw, encode); a stage table at each size. At the
first size, between runs, in the same process, the same bundle's backend is timed alone on
the same clip's frames at batch 1 (warm-up excluded): the inference-only FPS. Both use the
runtime's defaults (ONNX Runtime on all usable cores); `--threads N` runs the pipeline as
`astseg run --threads N` while the inference-only baseline keeps the default. Each repeat
pairs one run with one inference-only measurement; the ratio is taken per pair.

Cameras per box: 1, 2, 3, ... 1280x720 cameras at 25 FPS (paced, newest frame wins, as
the runtime reads a camera; benchmarks/camera_streams.py) run at once through
sdk.run.multi_stream, each writing its annotated video and JSON lines; `streams_720p_25fps`
is the largest number for which no stream dropped a frame.

The real crowd clip (benchmarks/crowd_clip.py): `../shared/data/crowd-overhead-1280x720.avi`
(1280x720, 20-40 people, 341 readable frames) end to end with H.264 + JSON and the shipped
bundle: `fps_720p_crowd`, `crowd_objects_per_frame`, `crowd_tracking_ms` (track stage, ms
per frame). A missing clip is reported and the case skipped; `--crowd none` skips it too
(quick mode skips it unless `--crowd PATH` is given).

End-to-end FPS counts from the first frame entering the pipeline to the last written
(model load excluded). Targets on 2 CPU cores with the default bundle: >= 30 FPS at
640x480 (and end to end >= 85 % of inference only there), >= 60 FPS at 1280x720,
>= 30 FPS at 1920x1080.

    python benchmarks/pipeline.py                      # the default bundle
    python benchmarks/pipeline.py --bundle bundles/cam1 --frames 600
    python benchmarks/pipeline.py --sizes 1280x720 --max-streams 0   # one size, no cameras
    python benchmarks/pipeline.py --threads 1          # the pipeline's model on one thread
    python benchmarks/pipeline.py --encoder mp4v       # only mp4v (default: H.264 and mp4v)
    python benchmarks/pipeline.py --crowd none         # without the real crowd clip
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from camera_streams import streams_at_rate  # noqa: E402
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
from crowd_clip import CROWD_CLIP, crowd_summary, crowd_targets, measure_crowd  # noqa: E402
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
# end-to-end FPS targets by frame height (issue 16); 480 is TARGET_FPS
SIZE_TARGETS = {480: TARGET_FPS, 720: 60.0, 1080: 30.0}
DEFAULT_SIZES = "640x480,1280x720,1920x1080"


def parse_size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720); ValueError otherwise."""
    width, height = (int(v) for v in text.lower().split("x"))
    if width < 1 or height < 1:
        raise ValueError(text)
    return width, height


def parse_args(argv: list[str] | None) -> Any:
    parser = base_parser(__doc__)
    parser.add_argument("--bundle", type=path_arg, help="bundle (default: the default one)")
    parser.add_argument("--checkpoint", type=path_arg, help="exported here when there is no bundle")
    parser.add_argument("--frames", type=int, help="clip length (300)")
    parser.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help=f"clip sizes WxH, comma-separated; the first is paired with inference only "
        f"({DEFAULT_SIZES})",
    )
    parser.add_argument("--repeats", type=int, help="pipeline runs per size (3)")
    parser.add_argument("--infer-calls", type=int, help="timed inference calls per repeat (200)")
    parser.add_argument(
        "--threads",
        type=int,
        help="astseg run --threads N for the end-to-end run only (default: the runtime's)",
    )
    parser.add_argument("--stream-size", default="1280x720", help="camera size (1280x720)")
    parser.add_argument("--stream-fps", type=float, default=25.0, help="camera rate (25)")
    parser.add_argument("--stream-seconds", type=float, help="length of each camera trial (8)")
    parser.add_argument(
        "--max-streams", type=int, help="most cameras tried at once (12; 0: no camera trials)"
    )
    parser.add_argument(
        "--crowd",
        help=f"the real crowd clip, or 'none' ({CROWD_CLIP.relative_to(CROWD_CLIP.parents[2])}; "
        "quick mode: none)",
    )
    add_encoder_arg(parser)
    args = parser.parse_args(argv)
    if args.crowd is None:
        args.crowd_clip = None if args.quick else CROWD_CLIP
    else:
        args.crowd_clip = None if args.crowd.lower() == "none" else path_arg(args.crowd)
    args.frames = args.frames or (20 if args.quick else 300)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.infer_calls = args.infer_calls or (10 if args.quick else 200)
    args.stream_seconds = args.stream_seconds or (1.0 if args.quick else 8.0)
    if args.max_streams is None:
        args.max_streams = 2 if args.quick else 12
    try:
        args.size_list = [parse_size(t) for t in args.sizes.split(",")]
        args.stream_wh = parse_size(args.stream_size)
    except ValueError:
        parser.error(f"--sizes {args.sizes!r} and --stream-size must look like 640x480,1280x720")
    if min(args.frames, args.repeats, args.infer_calls) < 1:
        parser.error("--frames, --repeats and --infer-calls must be positive")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be positive")
    if args.max_streams < 0 or args.stream_fps <= 0 or args.stream_seconds <= 0:
        parser.error("--max-streams must be 0 or more, --stream-fps and --stream-seconds positive")
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
    """`astseg run --video CLIP --out OUT --json OUT.jsonl`, as the CLI runs it."""
    from sdk.options import SegmenterOptions
    from sdk.outputs.outputs import OutputOptions
    from sdk.run.options import RunOptions
    from sdk.run.run_command import run_command

    options = RunOptions(
        SegmenterOptions(threads=threads),
        OutputOptions(out=out, json=out.with_suffix(".jsonl"), codec=codec),
        progress=False,
    )
    return run_command(video=str(clip), model=bundle, options=options)


def size_name(width: int, height: int) -> str:
    return f"{width}x{height}"


def measure_size(
    args: Any, bundle: str, work: Path, width: int, height: int, seg: Any | None
) -> tuple[dict[str, Any], Path]:
    """Repeated end-to-end runs on a fresh clip of this size; with `seg`, each run is paired
    with an inference-only measurement on the clip's frames."""
    scene = scene_for(Path(bundle), height, width)
    clip = write_clip(work / f"clip-{size_name(width, height)}.mp4", scene, args.frames)
    frames = first_frames(clip, 30) if seg is not None else []
    threads = f" --threads {args.threads}" if args.threads else ""
    entry: dict[str, Any] = {
        "clip": {
            "size": size_name(width, height),
            "frames": args.frames,
            "scene": {"background": scene.background, "max_objects": scene.max_objects},
            "command": f"astseg run --video CLIP --model {bundle} --out annotated.mp4 "
            f"--json objects.jsonl --quiet{threads}",
        }
    }
    runs = []
    for r in range(args.repeats):
        out = work / f"annotated-{size_name(width, height)}-{r}.mp4"
        summary = run_once(clip, bundle, out, args.threads, main_codec(args.encoder))
        run: dict[str, Any] = {
            "end_to_end_fps": round(summary.fps, 2),
            "frames": summary.frames,
            "seconds": round(summary.seconds, 3),
            "stages_ms": summary.stages_ms,
            "outputs": summary.outputs,
        }
        line = f"{size_name(width, height)} repeat {r + 1}: {summary.line()}"
        if seg is not None:
            alone = inference_only(seg, frames, args.infer_calls)
            infer_fps = 1000.0 / stats_ms(alone)["median_ms"]
            run["inference_only"] = stats_ms(alone)
            run["inference_only_fps"] = round(infer_fps, 2)
            run["ratio"] = round(summary.fps / infer_fps, 4)
            line += f"; inference only {infer_fps:.1f} FPS"
            if args.encoder == "both":  # H.264 against mp4v, on the first size only
                mp4v = run_once(clip, bundle, work / f"mp4v{r}.mp4", args.threads, "mp4v")
                record_pair(run, mp4v)
                line += f"; mp4v {mp4v.fps:.1f} FPS"
        runs.append(run)
        print(line)
    entry["runs"] = runs
    return entry, clip


def thread_load(stages: dict[str, float]) -> dict[str, float]:
    return {
        t: round(sum(stages.get(s, 0.0) for s in names), 3) for t, names in PIPELINE_THREADS.items()
    }


def plot(report: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    s = report["summary"]
    sizes = report["sizes"]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(12, 1.2 + 1.1 * len(sizes)), gridspec_kw={"width_ratios": [2.2, 1]}
    )
    ticks, row = [], 0
    for name, entry in sizes.items():
        stages = entry["stages_ms_median"]
        frame_ms = 1000.0 / max(entry["end_to_end_fps"]["median"], 1e-9)
        first = row
        for thread, names in PIPELINE_THREADS.items():
            x = 0.0
            for stage in names:
                ms = stages.get(stage, 0.0)
                left.barh(row, ms, left=x, color=STAGE_COLOURS[stage], edgecolor="white")
                if ms >= 0.06 * frame_ms:
                    left.text(x + ms / 2, row, f"{stage} {fmt(ms)}", ha="center", va="center",
                              fontsize=6)  # fmt: skip
                x += ms
            ticks.append((row, f"{name} {thread}"))
            row += 1
        left.plot([frame_ms, frame_ms], [first - 0.45, row - 0.55], color="black", ls="--", lw=1)
        left.text(frame_ms, first - 0.5, f" {fmt(frame_ms)} ms/frame", fontsize=6)
        row += 0.6
    left.set_yticks([t for t, _ in ticks])
    left.set_yticklabels([label for _, label in ticks], fontsize=7)
    left.invert_yaxis()
    left.set_xlabel("milliseconds per frame (mean per stage, median over repeats)")
    left.set_title("where the time goes; dashed: the frame period end to end", loc="left")
    names = list(sizes)
    values = [sizes[n]["end_to_end_fps"]["median"] for n in names]
    bars = right.bar(names, values, color="#e6550d", width=0.6)
    for bar, value, name in zip(bars, values, names, strict=True):
        right.text(bar.get_x() + bar.get_width() / 2, value, fmt(value), ha="center", va="bottom")
        target = SIZE_TARGETS.get(int(name.split("x")[1]))
        if target is not None:
            x0 = bar.get_x()
            right.plot([x0, x0 + bar.get_width()], [target, target], color="grey", ls="--", lw=1)
    right.set_ylabel("frames per second end to end (dashed: target)")
    streams = s.get("streams_720p_25fps")
    tail = f"; {streams} camera(s) of {report['streams']['size']} at 25 FPS" if streams else ""
    right.set_title(f"astseg run with video + JSON{tail}", loc="left", fontsize=9)
    fig.suptitle(f"astseg run at camera sizes: {report['bundle']['origin']}", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, plot_footer(report))


def summarise_size(entry: dict[str, Any]) -> None:
    """Medians over one size's repeats and the load of each thread."""
    runs = entry["runs"]
    stages = {
        s: round(statistics.median(r["stages_ms"].get(s, 0.0) for r in runs), 3)
        for s in runs[0]["stages_ms"]
    }
    entry["stages_ms_median"] = stages
    entry["thread_ms_median"] = thread_load(stages)
    entry["end_to_end_fps"] = stats([r["end_to_end_fps"] for r in runs], 2)


def summarise(report: dict[str, Any]) -> None:
    """Medians per size, the summary and the targets; the first size's figures also stand at
    the top level, where they always were."""
    for entry in report["sizes"].values():
        summarise_size(entry)
    base = next(iter(report["sizes"].values()))
    for key in ("clip", "runs", "stages_ms_median", "thread_ms_median", "end_to_end_fps"):
        report[key] = base[key]
    runs = base["runs"]
    stages = base["stages_ms_median"]
    e2e = base["end_to_end_fps"]
    alone_fps = stats([r["inference_only_fps"] for r in runs], 2)
    ratios = stats([r["ratio"] for r in runs])
    busiest = max(base["thread_ms_median"].items(), key=lambda kv: kv[1])
    report["inference_only_fps"], report["ratio"] = alone_fps, ratios
    cores = report["machine"]["cores"]
    on_target_cores = cores == TARGET_CORES
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
            "met": e2e["median"] >= TARGET_FPS if on_target_cores else None,
            "cores": cores,
        },
    }
    for name, entry in report["sizes"].items():
        height = int(name.split("x")[1])
        fps = entry["end_to_end_fps"]["median"]
        report["summary"][f"fps_{height}p"] = fps
        target = SIZE_TARGETS.get(height)
        if target is not None and height != 480:
            report["targets"][f"fps_{height}p"] = {
                "target": f">= {target:.0f} on {TARGET_CORES} cores",
                "value": fps,
                "met": fps >= target if on_target_cores else None,
                "cores": cores,
            }
    streams = report.get("streams")
    if streams is not None:
        height, fps = streams["size"].split("x")[1], f"{streams['fps']:g}"
        report["summary"][f"streams_{height}p_{fps}fps"] = streams["sustained"]
    crowd = report.get("crowd")
    if crowd is not None:
        report["summary"].update(crowd_summary(crowd))
        report["targets"].update(crowd_targets(crowd, cores, TARGET_CORES))


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
        seg = Segmenter(bundle)
        report["bundle"] = {**subject, "backend": seg.backend_description}
        report["sizes"], clips = {}, {}
        for i, (width, height) in enumerate(args.size_list):
            entry, clips[(width, height)] = measure_size(
                args, bundle, work, width, height, seg if i == 0 else None
            )
            report["sizes"][size_name(width, height)] = entry
        seg.close()
        report["crowd"] = measure_crowd(run_once, args.crowd_clip, work, args.repeats, args.threads)
        if args.max_streams:
            width, height = args.stream_wh
            clip = clips.get((width, height)) or write_clip(
                work / "camera.mp4", scene_for(Path(bundle), height, width), args.frames
            )
            report["streams"] = {
                "size": size_name(width, height),
                "outputs": "annotated MP4 + JSON lines per stream",
                **streams_at_rate(
                    clip, bundle, work, args.stream_fps, args.stream_seconds, args.max_streams
                ),
            }
    summarise(report)
    summarise_encoders(report, args.encoder)
    plot(report, png_path)
    finish(report, json_path, png_path, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
