"""Renders the README's "Performance" section from the benchmark results into Markdown.

Tables come from benchmarks/results/*.json, plots are linked where each result says it
drew them, and the commands are the ones that made them. A benchmark without a result is
listed with the command that makes it; a quick-mode result is marked as not a result.

    python benchmarks/performance_report.py                    # docs/performance.md
    python benchmarks/performance_report.py --links-from .     # links for pasting into README.md
    python benchmarks/performance_report.py --results benchmarks/results/quick --out /tmp/p.md
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DOCS, PIPELINE_THREADS, RESULTS, ROOT, fmt  # noqa: E402

from sdk.outputs.atomic import write_bytes_atomic  # noqa: E402

Lines = list[str]


# ------------------------------------------------------------------ small helpers
def table(head: list[str], rows: list[list[Any]]) -> Lines:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out + [""]


def x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def met(target: dict[str, Any] | None) -> str:
    if not target:
        return ""
    return {True: "met", False: "**not met**", None: "not applicable here"}[target.get("met")]


def mb(value: float | None) -> str:
    return "-" if value is None else f"{fmt(value)} MB"


class Renderer:
    """Turns one result file into its section; knows where the plots are linked from."""

    def __init__(self, links_from: Path) -> None:
        self.links_from = links_from

    def plot(self, data: dict[str, Any], alt: str) -> Lines:
        if not data.get("plot"):
            return []
        target = os.path.relpath(ROOT / data["plot"], self.links_from)
        return [f"![{alt}]({Path(target).as_posix()})", ""]

    @staticmethod
    def provenance(data: dict[str, Any]) -> Lines:
        m = data["machine"]
        gpu = f", GPU {m['gpu']}" if m.get("gpu") else ""
        libs = m.get("libraries", {})
        versions = ", ".join(
            f"{k} {libs[k]}"
            for k in ("onnxruntime", "torch", "opencv-python-headless")
            if k in libs
        )
        line = (
            f"Measured {data.get('date_utc', '?')} at `{data['git_revision'][:12]}` on "
            f"{m['cpu']}, {m['cores']} cores{gpu} ({versions}); {data.get('wall_s', '?')} s. "
            f"Command: `{data['command']}`"
        )
        return [line, ""]

    @staticmethod
    def warning(data: dict[str, Any]) -> Lines:
        if not data.get("quick"):
            return []
        return [
            "**Quick mode: tiny models and few repeats; this checks the benchmark runs "
            "and is not a result.**",
            "",
        ]


# ------------------------------------------------------------------ sections
def inference(r: Renderer, d: dict[str, Any]) -> Lines:
    out = [
        "PyTorch eager against ONNX Runtime on the CPU with the same weights and the same "
        f"images, {d['threads']} thread(s) (= cores), warm-up excluded, engines interleaved. "
        "Latency is per call at batch 1, throughput one call of 8 images.",
        "",
    ]
    rows = []
    for name, s in d["subjects"].items():
        if "error" in s:
            rows.append([name, "failed", s["error"][:80], "", "", ""])
            continue
        h, w = s["model"]["image_size"]
        label = f"{name} ({h}x{w}, K = {s['model']['num_slots']})"
        for engine in ("torch_eager", "ort_separate", "ort_fused"):
            b1, b8 = s["batch_1"][engine], s["batch_8"][engine]
            sp1 = s["speedup_vs_torch"]["batch_1"].get(engine)
            sp8 = s["speedup_vs_torch"]["batch_8"].get(engine)
            rows.append(
                [
                    label,
                    d["engines"][engine],
                    f"{fmt(b1['median_ms'])} / {fmt(b1['min_ms'])}",
                    "1.00x" if engine == "torch_eager" else x(sp1),
                    fmt(b8["images_per_s"]),
                    "1.00x" if engine == "torch_eager" else x(sp8),
                ]
            )
            label = ""
    out += table(
        [
            "model",
            "engine",
            "batch 1, ms (median / min)",
            "vs PyTorch",
            "batch 8, images/s",
            "vs PyTorch",
        ],
        rows,
    )
    worst = [
        (p["max_abs_weights"], p["segmentation_agreement"])
        for s in d["subjects"].values()
        if "parity" in s
        for b in s["parity"].values()
        for p in b.values()
    ]
    if worst:
        out += [
            f"Same computation: the largest difference of ONNX Runtime's layer weights from "
            f"PyTorch's is {max(w for w, _ in worst):.1e}, and the segmentations agree on "
            f"{min(a for _, a in worst):.3%} of pixels or more.",
            "",
        ]
    return out + r.plot(d, "PyTorch eager vs ONNX Runtime")


def pipeline(r: Renderer, d: dict[str, Any]) -> Lines:
    s = d["summary"]
    out = [
        f"`astseg run` on a {d['clip']['size']} synthetic clip of {d['clip']['frames']} frames "
        f"({d['bundle']['origin']}; {d['bundle']['backend']}), against the same bundle's "
        "inference alone, in the same process.",
        "",
    ]
    t = d["targets"]
    fps_target, ratio_target = t["end_to_end_fps"], t["pipeline_vs_inference_ratio"]
    out += table(
        ["figure", "value", "target"],
        [
            [
                "end-to-end FPS (median of runs)",
                fmt(s["end_to_end_fps"]),
                f"{fps_target['target']}: {met(fps_target)}",
            ],
            ["inference-only FPS", fmt(s["inference_only_fps"]), ""],
            [
                "end to end / inference only",
                pct(s["pipeline_vs_inference_ratio"]),
                f"{ratio_target['target']}: {met(ratio_target)}",
            ],
        ],
    )
    threads = {stage: thread for thread, stages in PIPELINE_THREADS.items() for stage in stages}
    rows = [
        [stage, threads.get(stage, "?"), fmt(ms)] for stage, ms in d["stages_ms_median"].items()
    ]
    out += [
        "Where the time goes (mean ms per frame per stage; each thread runs its stages in "
        f"turn, the threads overlap; busiest: the {s['busiest_thread']} thread, "
        f"{fmt(s['busiest_thread_ms'])} ms):",
        "",
    ]
    out += table(["stage", "thread", "ms per frame"], rows)
    out += pipeline_sizes(d)
    return out + r.plot(d, "astseg run: where the time goes")


def pipeline_sizes(d: dict[str, Any]) -> Lines:
    """End-to-end FPS and the stage table at every clip size, and the cameras per box."""
    sizes = d.get("sizes")
    if not sizes:
        return []
    stages = list(next(iter(sizes.values()))["stages_ms_median"])
    rows = []
    for name, entry in sizes.items():
        key = f"fps_{name.split('x')[1]}p"
        goal = d["targets"].get(key) or (
            d["targets"]["end_to_end_fps"] if key == "fps_480p" else None
        )
        rows.append(
            [
                name,
                fmt(entry["end_to_end_fps"]["median"]),
                f"{goal['target']}: {met(goal)}" if goal else "",
                *(fmt(entry["stages_ms_median"].get(stage)) for stage in stages),
            ]
        )
    out = [
        f"At camera sizes (`{next(iter(sizes.values()))['clip']['command']}`; mean ms per frame "
        "per stage, median over repeats):",
        "",
    ]
    out += table(["clip", "FPS end to end", "target", *stages], rows)
    streams = d.get("streams")
    if streams:
        key = f"streams_{streams['size'].split('x')[1]}p_{streams['fps']:g}fps"
        out += [
            f"Cameras per box: {d['summary'].get(key, streams['sustained'])} camera(s) of "
            f"{streams['size']} at {streams['fps']:g} FPS run at once without dropping a frame "
            f"({streams['outputs']}; {streams['seconds_per_trial']:g} s per trial after one "
            f"second of warm-up; at most {streams['max_streams_tried']} tried; summary key "
            f"`{key}`).",
            "",
        ]
    return out + pipeline_crowd(d)


def pipeline_crowd(d: dict[str, Any]) -> Lines:
    """The real crowd clip (benchmarks/crowd_clip.py), or why it was skipped."""
    crowd = d.get("crowd")
    if not crowd:
        return []
    if "skipped" in crowd:
        return [f"Real crowd clip: skipped ({crowd['skipped']}).", ""]
    t = d["targets"]
    stages = ", ".join(f"{k} {fmt(v)}" for k, v in crowd["stages_ms_median"].items())
    loads = [r["load_average_after"] for r in crowd["runs"] if "load_average_after" in r]
    load = f" Load average after each run: {', '.join(fmt(v) for v in loads)}." if loads else ""
    return [
        f"Real crowd clip (`{crowd['command']}`; 1280x720, {crowd['frames']} frames, "
        f"{crowd['codec']}): {fmt(crowd['end_to_end_fps']['median'])} FPS end to end "
        f"({t['fps_720p_crowd']['target']}: {met(t['fps_720p_crowd'])}), "
        f"{fmt(crowd['objects_per_frame'])} objects per frame (at most {crowd['objects_max']}); "
        f"mean ms per frame per stage: {stages}. The track stage on the frames with "
        f"{t['crowd_tracking_ms_at_crowded_frames']['target'].split(' at ')[1]}: "
        f"{fmt(crowd['track_ms_crowded_median'])} ms "
        f"({t['crowd_tracking_ms_at_crowded_frames']['target']}: "
        f"{met(t['crowd_tracking_ms_at_crowded_frames'])}).{load}",
        "",
    ]


def pipeline_one_thread(d: dict[str, Any]) -> Lines:
    """The same benchmark with `astseg run --threads 1` (the inference-only baseline keeps
    the runtime's default threads)."""
    s = d["summary"]
    return [
        f"With `astseg run --threads 1` (one ONNX Runtime thread, so decode and output keep "
        f"a core; `{d['command']}`): {fmt(s['end_to_end_fps'])} FPS end to end against "
        f"{fmt(s['inference_only_fps'])} FPS inference only at the default threads, "
        f"{pct(s['pipeline_vs_inference_ratio'])}; busiest: the {s['busiest_thread']} thread, "
        f"{fmt(s['busiest_thread_ms'])} ms per frame.",
        "",
    ]


CLASSICAL_METHODS = ("astseg", "astseg_slots", "mog2", "knn")
MASKS = {"fused": "fused masks", "slots": "slot masks"}


def classical_training(d: dict[str, Any]) -> Lines:
    t = d.get("training")
    if not t:
        return []
    if t.get("measured_here"):
        stop = "stopped at the budget" if t.get("stopped_by_budget") else "finished"
        return [
            f"The model was trained for this run without labels on `{t['data']}` "
            f"({fmt(t['wall_s'] / 60)} min wall time, budget {fmt(t['budget_minutes'])} min, "
            f"{stop}; {t['machine']['cores']} cores): `{t['command']}`.",
            "",
        ]
    if t.get("command"):
        wall = f" ({fmt(t['wall_s'] / 60)} min)" if t.get("wall_s") else ""
        return [f"The bundle's training{wall}, not timed by this run: `{t['command']}`.", ""]
    return []


def classical_groups(d: dict[str, Any]) -> Lines:
    """Per clip group: each method's mean figures, and issue 12's checks."""
    s, methods = d["summary"], d["methods"]
    rows = []
    for group, info in d["groups"].items():
        label = f"{group} ({', '.join(info['clips'])})"
        for method in CLASSICAL_METHODS:
            if method not in methods or methods[method].get("same_run_as"):
                continue  # an alias is the same run under a second name
            g = s["groups"][group]
            name = methods[method]["label"]
            if method == "astseg":
                name += f" ({MASKS[d['astseg_masks_from']]})"
            rows.append(
                [
                    label,
                    name,
                    fmt(g[f"{method}_f_measure"]),
                    fmt(g[f"{method}_ari_fg"]),
                    fmt(g[f"{method}_miou_fg"]),
                    fmt(g[f"{method}_fps"]),
                ]
            )
            label = ""
    out = ["Per clip group (a group is the mean of its clips; the summary the mean over groups):"]
    out += [""] + table(["group", "method", "F", "ARI-FG", "mIoU (fg)", "FPS"], rows)
    out += [f"- `{g}`: {info['what']}" for g, info in d["groups"].items()] + [""]
    t = d.get("targets")
    if t:
        out += bar(
            f"Issue 12's bar, raised by issue 21, for astseg ({MASKS[t['astseg_masks_from']]})",
            t["headline"],
            "at least KNN and MOG2 on every figure of every group",
            t["at_least_classical_per_group"],
        )
    return out + classical_tracking(d)


def bar(title: str, headline: dict[str, Any], rule: str, per_group: dict[str, Any]) -> Lines:
    """One sentence: the headline figures against their targets, then a per-group rule
    with the checks that missed it."""
    head = ", ".join(
        f"{k} {fmt(v['astseg'])} (>= {v['target']}: {met(v)})" for k, v in headline.items()
    )
    missed = [
        f"{group} {name}"
        for group, checks in per_group.items()
        for name, check in checks.items()
        if not check["met"]
    ]
    verdict = "met." if not missed else f"**not met** ({', '.join(missed)})."
    return [f"{title}: {head}; {rule}: {verdict}", ""]


def classical_tracking(d: dict[str, Any]) -> Lines:
    """Per clip group: HOTA, IDF1, MOTA, ID switches and objects per frame of astseg and
    the KNN + ByteTrack baseline, and issue 21's tracking bar (runs that scored it)."""
    s = d["summary"]
    if "astseg_hota" not in s:
        return []
    rows = []
    for group, g in s["groups"].items():
        for method, name in (("astseg", "astseg"), ("baseline", "KNN + CC + ByteTrack")):
            rows.append(
                [
                    group if method == "astseg" else "",
                    name,
                    *(fmt(g[f"{method}_{k}"]) for k in ("hota", "idf1", "mota")),
                    fmt(g[f"{method}_id_switches_per_100"]),
                    f"{fmt(g[f'{method}_objects_per_frame'])} / {fmt(g['true_objects_per_frame'])}",
                ]
            )
    head = ["group", "tracker", "HOTA", "IDF1", "MOTA", "ID switches / 100 frames"]
    out = [f"Tracking (TrackEval, matched on {s['tracking_similarity']}), per clip group:", ""]
    out += table([*head, "objects / true per frame"], rows) + [""]
    t = d.get("targets", {}).get("tracking")
    if t:
        out += bar(
            "Issue 21's tracking bar",
            t["headline"],
            "above the baseline on IDF1 and HOTA and at most 1.2 objects per true one in "
            "every group",
            t["above_baseline_per_group"],
        )
    return out


def classical(r: Renderer, d: dict[str, Any]) -> Lines:
    grouped = "groups" in d
    out = [
        "astseg against OpenCV background subtraction (MOG2, KNN; default parameters, shadows "
        "as background, 3x3 opening, connected components as instances) on synthetic "
        "fixed-camera clips with exact instance ids"
        + (f" (one camera, {len(d['groups'])} clip groups)" if grouped else "")
        + (" and CDnet sequences" if d.get("cdnet_clips") else "")
        + f" ({d['bundle']['origin']}).",
        "",
    ]
    out += [
        "Clip groups of one synthetic camera (the one the bundle was trained on), all with "
        "the same traffic: `static` (as it is), `noisy` (sensor noise), `drift` (the light "
        "falls to 60 % and comes back), `switch` (a lamp off at a third of the clip, on at "
        "two thirds), `shake` (sway and jitter, up to 3 px at 240 px), `crowded` (up to 10 "
        "objects at once, touching and occluding; groups of older runs differ). astseg is "
        "scored with "
        "its default masks (fused when the bundle has a background model) and with slot "
        "masks. The real run trains the model first, without labels, on unlabelled footage "
        "of that camera with the light drifting and switching and the camera shaking, for at "
        "most 58 minutes of wall time on 2 cores, and records the commands: "
        "`python benchmarks/classical.py --train` (`--bundle B --train-command ... "
        "--train-wall-s S` records a model trained elsewhere).",
        "",
    ]
    if grouped:
        out += classical_training(d) + classical_groups(d)
    else:
        out += [
            "**The figures below predate the clip groups** (clips `fixed`, `noisy`, and "
            "`light_change` on another background, astseg slot masks only); rerun the "
            "command above for the groups.",
            "",
        ]
    rows = []
    for clip, scores in d["clips"].items():
        label = clip
        for method in CLASSICAL_METHODS:
            if method not in scores or d["methods"].get(method, {}).get("same_run_as"):
                continue
            s = scores[method]
            rows.append(
                [
                    label,
                    d["methods"][method]["label"],
                    fmt(s["f_measure"]),
                    fmt(s["precision"]),
                    fmt(s["recall"]),
                    fmt(s.get("ari_fg")),
                    fmt(s.get("miou_fg")),
                    fmt(s["fps"]),
                ]
            )
            label = ""
    if grouped:
        out += ["Per clip:", ""]
    out += table(["clip", "method", "F", "precision", "recall", "ARI-FG", "mIoU (fg)", "FPS"], rows)
    ident = [
        (c, s["astseg"]["identity"]) for c, s in d["clips"].items() if "identity" in s["astseg"]
    ]
    if ident:
        out += [
            "astseg identities (MOG2 / KNN have none without a tracker): "
            + "; ".join(
                f"{c}: {i['switches_per_100_frames']:.2f} ID switches per 100 frames, "
                f"{i['matched_share']:.0%} of object-frames matched"
                for c, i in ident
            )
            + ".",
            "",
        ]
    out += ["Where astseg loses, and where it wins (from the numbers above):", ""]
    out += [f"- {line}" for line in d["findings"]] + [""]
    out += [f"- {note}" for note in d.get("notes", [])] + [""]
    return out + r.plot(d, "astseg vs MOG2 and KNN")


def training(r: Renderer, d: dict[str, Any]) -> Lines:
    out = [
        "Steps/s and images/s of the real training loop (`training.trainer.train`) on "
        "synthetic scenes, warm-up steps excluded, peak resident memory per measurement "
        "(each in its own process).",
        "",
    ]
    rows = []
    for name, phases in d["settings"].items():
        for key, m in phases.items():
            if "error" in m:
                rows.append([name, key, "failed", "", "", "", ""])
                continue
            phase, _, threads = key.partition("@")
            rows.append(
                [
                    name,
                    phase,
                    threads.replace("_threads", "") or "all",
                    m["batch"],
                    f"{fmt(m['steps_per_s_median'])} ({fmt(m['steps_per_s_max'])})",
                    fmt(m["images_per_s_median"]),
                    fmt(m["peak_rss_mb"]),
                ]
            )
    out += table(
        [
            "setting",
            "phase",
            "threads",
            "batch",
            "steps/s median (best)",
            "images/s",
            "peak RSS, MiB",
        ],
        rows,
    )
    return out + r.plot(d, "training speed")


def footprint(r: Renderer, d: dict[str, Any]) -> Lines:
    s, t = d["summary"], d["targets"]
    fr = d["default"]["first_result"]
    files = ", ".join(
        f"{k} {fmt(v / 1e6)}" for k, v in d["default"]["bundle"]["files_bytes"].items()
    )
    rows = [
        [
            "default bundle on disk",
            mb(s["bundle_mb"]) + f" ({files})",
            f"{t['bundle_mb']['target']} MB: {met(t['bundle_mb'])}",
        ],
        [
            "`import sdk` (fresh process)",
            f"{fmt(s['import_sdk_s'])} s"
            + (" (imports torch!)" if s["sdk_imports_torch"] else ", torch not imported"),
            "",
        ],
        [
            "time to first result",
            f"{fmt(s['first_result_s'])} s (import {fmt(fr['import_s']['median'])} + load "
            f"{fmt(fr['load_s']['median'])} + first frame {fmt(fr['first_frame_s']['median'])})",
            "",
        ],
        [
            "`astseg run` peak RSS, default bundle",
            f"{fmt(s['run_peak_rss_mb'])} MiB",
            f"{t['run_peak_rss_mb']['target']} MiB: {met(t['run_peak_rss_mb'])}",
        ],
    ]
    if "b3_run_peak_rss_mb" in s:
        rows += [
            ["Segformer-B3-sized 128x128 bundle on disk", mb(s["b3_bundle_mb"]), ""],
            ["`astseg run` peak RSS, B3-sized bundle", f"{fmt(s['b3_run_peak_rss_mb'])} MiB", ""],
        ]
    out = [
        "Fresh processes, as an edge box starts them; MB = 10^6 bytes on disk, MiB for memory.",
        "",
    ] + table(["figure", "value", "target"], rows)
    return out + r.plot(d, "footprint")


def scaling(r: Renderer, d: dict[str, Any]) -> Lines:
    out = [
        f"Random-init models of the default architecture (`{d['base_model']}`) through the "
        "runtime, each point in its own process: inference alone at batch 1, `seg(frame)` "
        "on a 640x480 frame, and that process's peak memory.",
        "",
    ]
    rows = [
        [
            name,
            f"{p['side']}x{p['side']}",
            p["k"],
            p["glimpse_size"],
            fmt(p["infer_ms"]),
            fmt(p["frame_ms"]),
            fmt(p["peak_rss_mb"]),
            fmt(p["bundle_mb"]),
        ]
        for name, p in d["points"].items()
    ]
    out += table(
        [
            "point",
            "image",
            "K",
            "glimpse",
            "inference ms",
            "seg(frame) ms",
            "peak RSS, MiB",
            "bundle MB",
        ],
        rows,
    )
    out += [f"- {d['readings']['size']}", f"- {d['readings']['k']}", ""]
    return out + r.plot(d, "latency and memory vs image size and K")


SECTIONS: list[tuple[str, str, str, Callable[[Renderer, dict[str, Any]], Lines]]] = [
    ("inference", "inference.json", "Inference engines", inference),
    ("pipeline", "pipeline.json", "The whole pipeline", pipeline),
    ("classical", "classical.json", "Against classical background subtraction", classical),
    ("training", "train_speed.json", "Training", training),
    ("footprint", "footprint.json", "Footprint on the edge", footprint),
    ("scaling", "scaling.json", "Cost growth", scaling),
]


def headline(results: dict[str, dict[str, Any]]) -> Lines:
    """The headline figures of every result, with their targets."""
    wanted = [
        (
            "inference",
            "ort_vs_torch_speedup_b1",
            "ONNX Runtime vs PyTorch eager, batch 1",
            x,
            ">= 1.5x",
        ),
        ("inference", "b3_ort_vs_torch_speedup_b1", "... Segformer-B3-sized 128x128", x, ""),
        (
            "pipeline",
            "end_to_end_fps",
            "`astseg run` end-to-end FPS, 640x480",
            fmt,
            ">= 30 on 2 cores",
        ),
        ("pipeline", "pipeline_vs_inference_ratio", "end to end / inference only", pct, ">= 85 %"),
        ("pipeline", "fps_720p", "`astseg run` end-to-end FPS, 1280x720", fmt, ">= 60 on 2 cores"),
        (
            "pipeline",
            "fps_1080p",
            "`astseg run` end-to-end FPS, 1920x1080",
            fmt,
            ">= 30 on 2 cores",
        ),
        ("pipeline", "streams_720p_25fps", "1280x720 cameras at 25 FPS per box", str, ""),
        (
            "pipeline",
            "fps_720p_crowd",
            "`astseg run` end-to-end FPS, real crowd clip 1280x720",
            fmt,
            ">= 50 on 2 cores",
        ),
        ("pipeline", "crowd_objects_per_frame", "... objects per frame on it", fmt, ""),
        ("pipeline", "crowd_tracking_ms", "... track stage, ms per frame", fmt, "<= 3 at 40"),
        ("classical", "astseg_f_measure", "foreground F: astseg", fmt, ">= 0.97, >= KNN, MOG2"),
        ("classical", "knn_f_measure", "foreground F: KNN", fmt, ""),
        ("classical", "mog2_f_measure", "foreground F: MOG2", fmt, ""),
        ("classical", "astseg_ari_fg", "instance ARI-FG: astseg", fmt, ">= 0.90, >= KNN, MOG2"),
        ("classical", "knn_ari_fg", "instance ARI-FG: KNN", fmt, ""),
        ("classical", "mog2_ari_fg", "instance ARI-FG: MOG2", fmt, ""),
        ("classical", "astseg_miou_fg", "foreground mIoU: astseg", fmt, ">= 0.80, >= KNN, MOG2"),
        ("classical", "knn_miou_fg", "foreground mIoU: KNN", fmt, ""),
        ("training", "train_steps_per_s", "training steps/s, cpu preset", fmt, ""),
        ("training", "train_images_per_s", "training images/s, cpu preset", fmt, ""),
        ("footprint", "bundle_mb", "default bundle size, MB", fmt, "<= 10"),
        ("footprint", "first_result_s", "time to first result, s", fmt, ""),
        ("footprint", "run_peak_rss_mb", "`astseg run` peak RSS, MiB", fmt, "<= 400"),
        ("scaling", "latency_vs_pixels_exponent", "latency ~ pixels^b: b", fmt, ""),
    ]
    rows = []
    for name, key, label, show, target in wanted:
        summary = results.get(name, {}).get("summary", {})
        if key in summary:
            quick = " (quick)" if results[name].get("quick") else ""
            rows.append([label, show(summary[key]) + quick, target, f"`{name}`: `{key}`"])
    return table(["headline", "value", "target", "result file: summary key"], rows) if rows else []


def render(results_dir: Path, links_from: Path) -> str:
    r = Renderer(links_from)
    results = {}
    for name, file_name, _, _ in SECTIONS:
        path = results_dir / file_name
        if path.is_file():
            results[name] = json.loads(path.read_text())
    out = [
        "## Performance",
        "",
        "Every figure below comes from `benchmarks/` (one script per benchmark, also "
        "`astseg bench NAME`), which writes `benchmarks/results/NAME.json` with the command, "
        "the git revision, the machine and min / median over repeats. Absolute times on a "
        "shared CPU drift from run to run: the speed claims are ratios measured within one "
        "run. Rerun everything and regenerate this section with:",
        "",
        "```bash",
        "benchmarks/run_all.sh --checkpoint CHECKPOINT   # the default bundle's checkpoint",
        "```",
        "",
    ]
    out += headline(results)
    for name, file_name, title, section in SECTIONS:
        out += [f"### {title}", ""]
        if name not in results:
            out += [f"Not measured yet: `astseg bench {name}` writes `{file_name}`.", ""]
            continue
        data = results[name]
        out += r.warning(data) + section(r, data) + r.provenance(data)
        one_thread = results_dir / "pipeline_threads1.json"
        if name == "pipeline" and one_thread.is_file():
            out += pipeline_one_thread(json.loads(one_thread.read_text()))
    out += [
        "### Reproducing one benchmark",
        "",
        "```bash",
        "astseg bench inference --checkpoint CHECKPOINT   # PyTorch vs ONNX Runtime",
        "astseg bench pipeline                            # astseg run vs inference alone",
        "astseg bench classical [--cdnet PATH]            # vs MOG2 / KNN (--train: train first)",
        "astseg bench training                            # benchmarks/train_speed.py",
        "astseg bench footprint                           # size, start-up, memory",
        "astseg bench scaling --checkpoint CHECKPOINT     # image size and K",
        "astseg bench NAME --quick                        # seconds: checks it runs, not a result",
        "```",
        "",
    ]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of result JSONs")
    parser.add_argument("--out", type=Path, default=DOCS / "performance.md")
    parser.add_argument("--links-from", type=Path, help="folder links are relative to (--out's)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    text = render(args.results, (args.links_from or out.parent).resolve())
    write_bytes_atomic(out, text.encode())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
