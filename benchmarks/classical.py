"""Against classical fixed-camera segmentation: astseg vs OpenCV MOG2 and KNN.

What most users of fixed cameras run today is background subtraction plus connected
components. Here that is OpenCV's MOG2 and KNN with OpenCV's default parameters, shadows
(127) counted as background, a 3x3 opening against speckle, and 8-connected components of
at least `--min-area` pixels as instances. astseg is `sdk.Segmenter` on the bundle
(tracker on): its foreground is every pixel a slot owns, its instances the reported
objects with their track IDs.

Clips: synthetic fixed-camera videos with exact instance ids (by default three, drawn like
the scenes the bundle was trained on when its astseg.json names a `synthetic:` spec, at
the model's size: `fixed`, `noisy` with sensor noise, `light_change` with a background
whose light drifts), and any CDnet-format folder given with `--cdnet` (foreground labels
only, so F-measure and FPS). The first `--warmup-frames` frames of a synthetic clip are
not scored (CDnet's temporalROI does the same for its sequences): the background models
learn there. Every method sees every frame, in an order that rotates per frame.

Scores, as `astseg eval` defines them (training.metrics): CDnet F-measure over a clip's
scored pixels; ARI-FG and foreground mIoU per scored frame with objects, averaged; FPS
from the median time per frame at the clip's resolution (frames already decoded). The
summary averages over the synthetic clips; `findings` lists, from the numbers, every clip
and metric where astseg loses, and where it wins.

    python benchmarks/classical.py                        # the default bundle
    python benchmarks/classical.py --cdnet /data/cdnet2014/baseline
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    ENGINE_COLOURS,
    base_parser,
    finish,
    fmt,
    header,
    output_paths,
    path_arg,
    plot_footer,
    pyplot,
    save_figure,
    stats_ms,
    usable_cores,
    work_dir,
)
from subjects import manifest, runtime_bundle, scene_for  # noqa: E402

from training.metrics import (  # noqa: E402
    ChangeCounts,
    IdentityCounter,
    ari_fg,
    change_counts,
    matched_iou,
)

METHODS = ("astseg", "mog2", "knn")
METHOD_LABELS = {"astseg": "astseg", "mog2": "OpenCV MOG2 + CC", "knn": "OpenCV KNN + CC"}
QUALITY = ("f_measure", "ari_fg", "miou_fg")
QUALITY_LABELS = {"f_measure": "CDnet F-measure", "ari_fg": "ARI-FG", "miou_fg": "mIoU (fg)"}


# ------------------------------------------------------------------ the methods
class BackgroundSubtraction:
    """MOG2 or KNN with OpenCV's defaults, then connected components as instances."""

    def __init__(self, method: str, min_area: int) -> None:
        import cv2

        self.cv2, self.method, self.min_area = cv2, method, min_area
        self.kernel = np.ones((3, 3), np.uint8)
        self.reset()

    def reset(self) -> None:
        cv2 = self.cv2
        self.model = (
            cv2.createBackgroundSubtractorMOG2()
            if self.method == "mog2"
            else cv2.createBackgroundSubtractorKNN()
        )

    @property
    def parameters(self) -> dict[str, Any]:
        m = self.model
        out: dict[str, Any] = {"history": m.getHistory(), "detect_shadows": m.getDetectShadows()}
        if self.method == "mog2":
            out["var_threshold"] = m.getVarThreshold()
        else:
            out["dist2_threshold"] = m.getDist2Threshold()
        out.update({"opening": "3x3", "connectivity": 8, "min_area": self.min_area})
        return out

    def __call__(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(foreground bool [H, W], instance labels int32 [H, W], 0 = background)."""
        cv2 = self.cv2
        raw = self.model.apply(frame)
        mask = np.where(raw == 255, 255, 0).astype(np.uint8)  # shadows are background
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self.kernel)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        keep = np.zeros(count, np.int32)
        big = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= self.min_area) + 1
        keep[big] = np.arange(1, len(big) + 1, dtype=np.int32)
        return mask > 0, keep[labels]


class AstsegMethod:
    """sdk.Segmenter in the bundle's default mode: foreground = the background model's (fused
    mode) or the pixels any slot owns (slot mode); instances = reported objects' IDs."""

    def __init__(self, bundle: str, min_area: int) -> None:
        from sdk import Segmenter

        self.seg = Segmenter(bundle, channels="rgb", min_area=min_area)
        self.method = "astseg"

    def reset(self) -> None:
        self.seg.reset()

    @property
    def parameters(self) -> dict[str, Any]:
        return {
            "backend": self.seg.backend_description,
            "min_area": self.seg.min_area,
            "masks_from": self.seg.masks_from,
        }

    def __call__(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        result = self.seg(frame)
        foreground = result.foreground
        return (result.slot_labels != 0) if foreground is None else foreground, result.label_map


# ------------------------------------------------------------------ the clips
@dataclass
class Clip:
    """Frames in order: (image RGB, instance ids or None, CDnet labels or None = unscored)."""

    name: str
    description: str
    frames: Callable[[], Iterator[tuple[np.ndarray, np.ndarray | None, np.ndarray | None]]]
    count: int
    has_instances: bool
    info: dict[str, Any] = field(default_factory=dict)


def synthetic_clip(name: str, scene: Any, frames: int, warmup: int) -> Clip:
    from training.data import SyntheticVideo

    video = SyntheticVideo(scene, frames)

    def generate() -> Iterator[tuple[np.ndarray, np.ndarray | None, np.ndarray | None]]:
        for t in range(frames):
            image, ids, _ = video.render(t)
            labels = np.where(ids > 0, 255, 0).astype(np.uint8) if t >= warmup else None
            yield image, ids, labels

    info = {
        "size": f"{scene.width}x{scene.height}",
        "frames": frames,
        "scored_from_frame": warmup,
        "background": scene.background,
        "noise": scene.noise,
        "max_objects": scene.max_objects,
        "objects_total": len(video.tracks),
    }
    return Clip(name, f"synthetic {name}", generate, frames, True, info)


def cdnet_clips(path: Path) -> list[Clip]:
    """One clip per CDnet sequence found at `path` (a sequence, category or dataset folder)."""
    from training.data import open_cdnet
    from training.data.sample import Concatenated

    dataset = open_cdnet(path)
    sequences = dataset.parts if isinstance(dataset, Concatenated) else [dataset]
    clips = []
    for seq in sequences:

        def generate(seq: Any = seq) -> Iterator[tuple[np.ndarray, None, np.ndarray | None]]:
            for sample in seq:
                yield sample.image, None, sample.motion_labels

        info = {"path": str(seq.root), "frames": len(seq), "temporal_roi": [seq.first, seq.last]}
        name = f"cdnet/{seq.root.name}"
        clips.append(Clip(name, f"CDnet {seq.root.name}", generate, len(seq), False, info))
    return clips


def default_clips(
    bundle: Path, size: tuple[int, int] | None, frames: int, warmup: int
) -> list[Clip]:
    model = manifest(bundle)["model"]
    h, w = size or (model["image_height"], model["image_width"])
    base = scene_for(bundle, h, w)
    variants = {
        "fixed": base,
        "noisy": replace(base, noise=12.0),
        "light_change": replace(base, background="gradient"),
    }
    return [synthetic_clip(n, s.validate(), frames, warmup) for n, s in variants.items()]


# ------------------------------------------------------------------ scoring
def compact(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0..n with 0 kept for background (the metrics index layers by label)."""
    ids = np.union1d([0], np.unique(labels))
    return np.searchsorted(ids, labels).astype(np.int32)


@dataclass
class Score:
    """Running scores of one method on one clip."""

    counts: ChangeCounts = field(default_factory=ChangeCounts)
    ari: list[float] = field(default_factory=list)
    miou: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    identity: IdentityCounter | None = None  # astseg's track IDs against the true ids

    def result(self) -> dict[str, Any]:
        timing = stats_ms(self.seconds)
        c = self.counts
        out: dict[str, Any] = {
            **{k: round(v, 4) for k, v in c.scores().items()},
            # 2TP / (2TP + FP + FN) equals 2PR / (P + R) wherever that is defined, and is 0
            # (not undefined) for a method that marks no pixel while objects are present.
            "f_measure": round(2 * c.tp / (2 * c.tp + c.fp + c.fn), 4)
            if c.tp + c.fp + c.fn
            else None,
            "ari_fg": round(statistics.fmean(self.ari), 4) if self.ari else None,
            "miou_fg": round(statistics.fmean(self.miou), 4) if self.miou else None,
            "frames_with_objects_scored": len(self.ari),
            "ms_per_frame": timing,
            "fps": round(1000.0 / timing["median_ms"], 1),
        }
        if self.identity is not None and self.identity.frames:
            ident = self.identity.result()
            out["identity"] = {
                "id_switches": ident.id_switches,
                "switches_per_100_frames": round(ident.switches_per_100_frames, 3),
                "matched_share": round(ident.matched_share, 4),
                "single_id_share": round(ident.single_id_share, 4),
            }
        return out


def evaluate_clip(clip: Clip, methods: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every method on every frame; returns (scores per method, an example frame)."""
    for method in methods.values():
        method.reset()
    scores = {name: Score() for name in methods}
    if clip.has_instances:
        scores["astseg"].identity = IdentityCounter()
    example: dict[str, Any] = {"objects": -1}
    names = list(methods)
    for t, (image, ids, labels) in enumerate(clip.frames()):
        shift = t % len(names)
        outputs = {}
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            outputs[name] = methods[name](image)
            scores[name].seconds.append(time.perf_counter() - start)
        if labels is None:
            continue
        objects = int(len(np.unique(ids)) - 1) if ids is not None else 0
        for name, (foreground, instances) in outputs.items():
            score = scores[name]
            score.counts += change_counts(foreground, labels)
            if objects > 0:
                score.ari.append(ari_fg(ids, instances))
                miou_fg, _ = matched_iou(ids, compact(instances))
                if not math.isnan(miou_fg):
                    score.miou.append(miou_fg)
            if score.identity is not None:
                score.identity.update(ids, instances)
        if objects >= example["objects"]:  # the latest frame with the most objects
            example = {
                "objects": objects,
                "frame": t,
                "image": image,
                "ids": ids,
                "labels": labels,
                "outputs": {n: o[1] for n, o in outputs.items()},
            }
    return {name: s.result() for name, s in scores.items()}, example


def findings(clips: dict[str, dict[str, Any]]) -> list[str]:
    """Plain sentences, from the numbers: where astseg loses to the best classical method
    on each clip and metric, then where it wins."""
    losses, wins = [], []
    for clip, scores in clips.items():
        for metric in (*QUALITY, "fps"):
            ours = scores["astseg"].get(metric)
            theirs = {m: scores[m].get(metric) for m in ("mog2", "knn")}
            theirs = {m: v for m, v in theirs.items() if v is not None}
            if ours is None or not theirs:
                continue
            best = max(theirs, key=lambda m: theirs[m])
            label = QUALITY_LABELS.get(metric, "FPS")
            text = (
                f"{clip}: {label} astseg {fmt(ours)} vs {METHOD_LABELS[best]} {fmt(theirs[best])}"
            )
            (losses if ours < theirs[best] else wins).append(text)
    return [f"astseg loses - {t}" for t in losses] + [f"astseg wins - {t}" for t in wins]


def averaged(clips: dict[str, dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """Mean over clips of each method's headline figures (CDnet's mean over videos)."""
    out: dict[str, Any] = {}
    for method in METHODS:
        for metric in (*QUALITY, "fps"):
            values = [clips[c][method].get(metric) for c in names]
            values = [v for v in values if v is not None]
            out[f"{method}_{metric}"] = round(statistics.fmean(values), 4) if values else None
    return out


# ------------------------------------------------------------------ the plot
def colourise(labels: np.ndarray) -> np.ndarray:
    """A distinct colour per label (golden-ratio hues), black background."""
    import colorsys

    out = np.zeros((*labels.shape, 3), np.float32)
    for value in np.unique(labels):
        if value == 0:
            continue
        out[labels == value] = colorsys.hsv_to_rgb((int(value) * 0.618034) % 1.0, 0.65, 0.95)
    return out


def plot(report: dict[str, Any], example: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    fig = plt.figure(figsize=(11, 6.0))
    grid = fig.add_gridspec(
        2, 5, height_ratios=[1.2, 1], hspace=0.25, top=0.93, bottom=0.08, left=0.05, right=0.98
    )
    if example.get("image") is not None:
        panels = [("input", example["image"] / 255.0), ("ground truth", colourise(example["ids"]))]
        panels += [(METHOD_LABELS[m], colourise(example["outputs"][m])) for m in METHODS]
        for i, (title, image) in enumerate(panels):
            ax = fig.add_subplot(grid[0, i])
            ax.imshow(image, interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        fig.text(
            0.5,
            0.975,
            f"{example['clip']}, frame {example['frame']}: one colour per "
            "instance (astseg colours are track IDs)",
            ha="center",
            fontsize=9,
        )
    s = report["summary"]
    ax = fig.add_subplot(grid[1, :3])
    width = 0.26
    for i, method in enumerate(METHODS):
        values = [s.get(f"{method}_{m}") or 0.0 for m in QUALITY]
        xs = [j + (i - 1) * width for j in range(len(QUALITY))]
        bars = ax.bar(xs, values, width, color=ENGINE_COLOURS[method], label=METHOD_LABELS[method])
        for bar, value in zip(bars, values, strict=True):
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                value,
                f"{value:.2f}",
                ha="center",
                va="bottom",
                fontsize=7,
            )
    ax.set_xticks(range(len(QUALITY)))
    ax.set_xticklabels([QUALITY_LABELS[m] for m in QUALITY])
    ax.set_ylim(0, 1.18)
    ax.set_title(
        f"quality, mean over {len(report['synthetic_clips'])} synthetic clips (higher is better)",
        loc="left",
    )
    ax.legend(fontsize=7, frameon=False, loc="upper left", ncols=3)
    ax = fig.add_subplot(grid[1, 3:])
    values = [s.get(f"{m}_fps") or 0.0 for m in METHODS]
    bars = ax.bar(
        [METHOD_LABELS[m].replace(" + CC", "") for m in METHODS],
        values,
        color=[ENGINE_COLOURS[m] for m in METHODS],
    )
    for bar, value in zip(bars, values, strict=True):
        ax.text(bar.get_x() + bar.get_width() / 2, value, fmt(value), ha="center", va="bottom")
    ax.set_yscale("log")
    ax.set_ylim(1, max(values) * 4)
    ax.set_title(f"frames per second at {report['clip_size']}", loc="left")
    save_figure(fig, path, plot_footer(report))


# ------------------------------------------------------------------ main
def parse_args(argv: list[str] | None) -> Any:
    parser = base_parser(__doc__)
    parser.add_argument("--bundle", type=path_arg, help="bundle (default: the default one)")
    parser.add_argument("--checkpoint", type=path_arg, help="exported here when there is no bundle")
    parser.add_argument(
        "--cdnet",
        type=path_arg,
        action="append",
        default=[],
        help="a CDnet sequence, category or dataset folder (repeatable)",
    )
    parser.add_argument("--frames", type=int, help="frames per synthetic clip (300)")
    parser.add_argument("--warmup-frames", type=int, help="unscored frames first (50)")
    parser.add_argument("--size", help="synthetic clip size HxW (default: the model's)")
    parser.add_argument("--min-area", type=int, default=16, help="smallest instance, pixels")
    parser.add_argument("--no-synthetic", action="store_true", help="only the --cdnet folders")
    args = parser.parse_args(argv)
    args.frames = args.frames or (30 if args.quick else 300)
    args.warmup_frames = (
        args.warmup_frames if args.warmup_frames is not None else (5 if args.quick else 50)
    )
    if not 0 <= args.warmup_frames < args.frames:
        parser.error("--warmup-frames must be at least 0 and below --frames")
    if args.size:
        h, _, w = args.size.lower().partition("x")
        args.size = (int(h), int(w or h))
    if args.no_synthetic and not args.cdnet:
        parser.error("--no-synthetic needs at least one --cdnet folder")
    return args


def main(argv: list[str] | None = None) -> int:
    import cv2

    args = parse_args(argv)
    json_path, png_path = output_paths(args, "classical")
    started = time.perf_counter()
    cv2.setNumThreads(usable_cores())
    report = header("classical", args.quick, argv)
    with work_dir("classical") as tmp:
        subject = runtime_bundle(args.bundle, args.checkpoint, Path(tmp), args.quick)
        bundle = Path(subject["bundle"])
        clips = (
            []
            if args.no_synthetic
            else default_clips(bundle, args.size, args.frames, args.warmup_frames)
        )
        for folder in args.cdnet:
            clips += cdnet_clips(folder)
        methods: dict[str, Any] = {
            "astseg": AstsegMethod(str(bundle), args.min_area),
            "mog2": BackgroundSubtraction("mog2", args.min_area),
            "knn": BackgroundSubtraction("knn", args.min_area),
        }
        report["bundle"] = subject
        spec = manifest(bundle).get("training", {}).get("data")
        report["scenes_drawn_like"] = spec or "the scene generator's defaults"
        report["methods"] = {
            n: {"label": METHOD_LABELS[n], **m.parameters} for n, m in methods.items()
        }
        report["clips"] = {}
        example: dict[str, Any] = {}
        for clip in clips:
            print(f"{clip.description}: {clip.count} frames", flush=True)
            scores, frame = evaluate_clip(clip, methods)
            report["clips"][clip.name] = {"info": clip.info, **scores}
            for name in METHODS:
                s = scores[name]
                print(
                    f"  {name:6s} F {fmt(s['f_measure'])}  ARI-FG {fmt(s['ari_fg'])}  "
                    f"mIoU {fmt(s['miou_fg'])}  {fmt(s['fps'])} FPS"
                )
            if not example and clip.has_instances:
                example = {**frame, "clip": clip.name}
        methods["astseg"].seg.close()
    scored = report["clips"]
    synthetic = [c.name for c in clips if c.has_instances]
    cdnet = [c.name for c in clips if not c.has_instances]
    report["synthetic_clips"], report["cdnet_clips"] = synthetic, cdnet
    report["clip_size"] = scored[synthetic[0]]["info"]["size"] if synthetic else "CDnet size"
    summary = averaged(scored, synthetic) if synthetic else {}
    if cdnet:
        cd = averaged(scored, cdnet)
        summary.update(
            {f"cdnet_{k}": v for k, v in cd.items() if "ari" not in k and "miou" not in k}
        )
    report["summary"] = summary
    report["findings"] = findings(scored)
    report["notes"] = [
        "MOG2 / KNN instances are connected components: touching objects merge into one, "
        "and they carry no identity across frames without a separate tracker.",
        "astseg runs the given bundle; on a camera it was not trained on (e.g. a CDnet "
        "sequence) it is out of its domain. astseg learns per camera: "
        "`astseg train --data cdnet:PATH` trains one on the sequence itself.",
    ]
    if synthetic:
        plot(report, example, png_path)
    finish(report, json_path, png_path if synthetic else None, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
