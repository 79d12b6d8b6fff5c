"""Real footage: astseg trained on a camera's own frames with no labels, against MOG2 and KNN.

For each CDnet-format folder (`input/inNNNNNN.jpg`, `groundtruth/gtNNNNNN.png`,
`temporalROI.txt`, optionally `ROI.bmp`) it does what a user does, through the CLI:

    astseg train --preset cpu --data cdnet:SEQ --time-limit MIN --out RUN
    astseg export RUN --out BUNDLE
    astseg run --model BUNDLE --images SEQ/input --masks OUT [--masks-from background]

and scores the masks with CDnet's F-measure, precision and recall (shadow counts as
background, unknown and outside-ROI pixels are ignored: training.metrics.change_counts),
beside OpenCV's MOG2 and KNN with their default parameters run over the same frames in
order. Labels are read for scoring only. FPS and objects per frame come from `astseg run`'s
own summary line.

Default folders: every CDnet sequence under ../shared/data/ (beside the repository); with
none there and no --cdnet, it says so and exits 0 without writing a result. The JSON holds
numbers only (nothing derived from the footage), the commands, wall times and git revision;
`summary` has `f_measure`, `precision`, `recall` per method per sequence and `targets`
checks issue 20's bar (astseg fused F >= 0.75 and above MOG2 and KNN, training <= 30 min).

    python benchmarks/real_footage.py
    python benchmarks/real_footage.py --cdnet /data/cdnet2014/baseline/highway --time-limit 50
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, base_parser, header, output_paths, path_arg, write_json  # noqa: E402
from real_objects import object_scores  # noqa: E402

SHARED_DATA = ROOT.parent / "shared" / "data"
DEFAULT_MINUTES = 15.0
TARGET_F = 0.75
TARGET_TRAIN_MINUTES = 30.0
MODES = ("fused", "background")
_PROCESSED = re.compile(r"processed (\d+) frames in ([\d.]+) s \(([\d.]+) FPS\)")
_OBJECTS = re.compile(r"([\d.]+) objects per frame")
SUMMARY_KEYS = (
    *("f_measure", "precision", "recall"),
    *("objects_per_scored_frame", "objects_off_truth_per_frame", "true_regions_per_frame"),
)


def find_sequences(root: Path) -> list[Path]:
    """CDnet sequences directly under `root` (sorted), or [] when it does not exist."""
    from training.data.cdnet import is_cdnet_sequence

    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and is_cdnet_sequence(p))


def _cli(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), *args]


def _shown(argv: list[str]) -> str:
    return " ".join(["astseg", *argv[2:]])


def _run(argv: list[str], log: Path) -> tuple[float, str]:
    """(wall seconds, output); a failed step stops the benchmark with its output's tail."""
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    output = proc.stdout + proc.stderr
    log.write_text(output)
    if proc.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-5:])
        raise SystemExit(f"real_footage: `{_shown(argv)}` failed ({proc.returncode}):\n{tail}")
    return wall, output


def _run_summary(output: str) -> dict[str, float]:
    processed, objects = _PROCESSED.search(output), _OBJECTS.search(output)
    if processed is None:
        raise SystemExit("real_footage: `astseg run` printed no 'processed N frames' line")
    return {
        "frames": int(processed.group(1)),
        "fps": float(processed.group(3)),
        "objects_per_frame": float(objects.group(1)) if objects else 0.0,
    }


def _scores(counts: Any) -> dict[str, float]:
    return {
        "f_measure": round(counts.f_measure, 4),
        "precision": round(counts.precision, 4),
        "recall": round(counts.recall, 4),
    }


def score_folder(sequence: Path, masks: Path) -> dict[str, float]:
    """CDnet scores of the label maps `astseg run --masks` wrote (non-zero = foreground)."""
    from training.data.cdnet import CdnetSequence
    from training.metrics import ChangeCounts, change_counts

    data = CdnetSequence(sequence, scored_only=True)
    total = ChangeCounts()
    for index in range(len(data)):
        sample = data[index]
        assert sample.motion_labels is not None and sample.frame is not None
        path = masks / f"in{sample.frame:06d}.png"
        labels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if labels is None:
            raise SystemExit(f"real_footage: {path} was not written by astseg run")
        total = total + change_counts(labels > 0, sample.motion_labels)
    return _scores(total)


def classical(sequence: Path, method: str) -> dict[str, float]:
    """MOG2 or KNN, OpenCV defaults, over every frame in order; scored frames counted."""
    from training.data.cdnet import CdnetSequence
    from training.metrics import ChangeCounts, change_counts

    data = CdnetSequence(sequence, scored_only=False)
    subtractor = (
        cv2.createBackgroundSubtractorMOG2()
        if method == "mog2"
        else cv2.createBackgroundSubtractorKNN()
    )
    total, seconds = ChangeCounts(), 0.0
    for index in range(len(data)):
        sample = data[index]
        frame = np.ascontiguousarray(sample.image[..., ::-1])  # OpenCV's BGR
        start = time.perf_counter()
        mask = subtractor.apply(frame)
        seconds += time.perf_counter() - start
        if sample.motion_labels is not None:
            total = total + change_counts(mask == 255, sample.motion_labels)
    return {**_scores(total), "fps": round(len(data) / max(seconds, 1e-9), 1)}


def _min_area() -> int:
    from sdk.options import DEFAULTS  # the runtime's own smallest object

    return int(DEFAULTS.min_area)


def benchmark_sequence(
    sequence: Path, minutes: float, work: Path, reuse: bool = False
) -> dict[str, Any]:
    """Train, export, run and score one sequence in `work`; `reuse`: take the bundle an
    earlier run left in `work` (its training figures are that run's, not measured here)."""
    run_dir, bundle = work / "run", work / "bundle"
    train = _cli(
        "train", "--preset", "cpu", "--data", f"cdnet:{sequence}",
        "--time-limit", f"{minutes:g}", "--out", str(run_dir),
    )  # fmt: skip
    export = _cli("export", str(run_dir), "--out", str(bundle))
    commands = {"train": _shown(train), "export": _shown(export)}
    if reuse:
        if not (bundle / "astseg.json").is_file():
            raise SystemExit(f"real_footage: --reuse-bundles, but {bundle} holds no bundle")
        wall: dict[str, Any] = {"train_s": None, "export_s": None, "reused_bundle": str(bundle)}
    else:
        train_s, _ = _run(train, work / "train.log")
        export_s, _ = _run(export, work / "export.log")
        wall = {"train_s": round(train_s, 1), "export_s": round(export_s, 1)}
    methods: dict[str, dict[str, float]] = {}
    for mode in MODES:
        masks = work / f"masks-{mode}"
        run = _cli(
            "run", "--model", str(bundle), "--images", str(sequence / "input"),
            "--masks", str(masks), "--masks-from", mode,
        )  # fmt: skip
        run_s, output = _run(run, work / f"run-{mode}.log")
        commands[f"run_{mode}"] = _shown(run)
        wall[f"run_{mode}_s"] = round(run_s, 1)
        methods[f"astseg_{mode}"] = {
            **score_folder(sequence, masks),
            **_run_summary(output),
            **object_scores(sequence, masks, _min_area()),
        }
    for method in ("mog2", "knn"):
        methods[method] = classical(sequence, method)
    return {"commands": commands, "wall": wall, "methods": methods}


def targets(sequences: dict[str, Any]) -> dict[str, Any]:
    """Issue 20's bar on each sequence."""
    checks = {}
    for name, result in sequences.items():
        m = result["methods"]
        fused = m["astseg_fused"]["f_measure"]
        checks[name] = {
            "fused_f_at_least_0.75": fused >= TARGET_F,
            "fused_above_mog2": fused > m["mog2"]["f_measure"],
            "fused_above_knn": fused > m["knn"]["f_measure"],
            "train_within_30_min": result["wall"]["train_s"] is not None
            and result["wall"]["train_s"] <= TARGET_TRAIN_MINUTES * 60,
        }
    return {"per_sequence": checks, "all_met": all(all(c.values()) for c in checks.values())}


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument(
        "--cdnet", type=path_arg, action="append", default=[],
        help=f"CDnet sequence folder (repeatable; default: every one under {SHARED_DATA})",
    )  # fmt: skip
    parser.add_argument(
        "--time-limit", type=float, default=DEFAULT_MINUTES,
        help=f"training minutes per sequence (default {DEFAULT_MINUTES:g})",
    )  # fmt: skip
    parser.add_argument("--work", type=path_arg, help="keep runs, bundles and masks here")
    parser.add_argument(
        "--reuse-bundles", action="store_true",
        help="with --work: run and score the bundles an earlier run left there (no training)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.reuse_bundles and args.work is None:
        parser.error("--reuse-bundles needs --work (the folder an earlier run kept)")
    sequences = list(args.cdnet) or find_sequences(SHARED_DATA)
    if not sequences:
        print(f"real_footage: no CDnet sequence under {SHARED_DATA} and no --cdnet; skipped")
        return 0
    json_path, _ = output_paths(args, "real_footage")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="astseg-real-") as scratch:
        base = args.work or Path(scratch)
        for sequence in sequences:
            doing = (
                "reusing its bundle" if args.reuse_bundles else f"training {args.time_limit:g} min"
            )
            print(f"real_footage: {sequence.name}: {doing}, then run")
            work = base / sequence.name
            work.mkdir(parents=True, exist_ok=True)
            results[sequence.name] = benchmark_sequence(
                sequence, args.time_limit, work, args.reuse_bundles
            )
            line = ", ".join(
                f"{k} F {v['f_measure']:.3f}" for k, v in results[sequence.name]["methods"].items()
            )
            print(f"real_footage: {sequence.name}: {line}")
    summary = {
        name: {
            method: {k: v[k] for k in SUMMARY_KEYS if k in v}
            for method, v in result["methods"].items()
        }
        for name, result in results.items()
    }
    report = {
        **header("real_footage", args.quick),
        "time_limit_minutes": args.time_limit,
        "sequences": results,
        "summary": summary,
        "targets": targets(results),
    }
    write_json(json_path, report)
    print(f"real_footage: wrote {json_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
