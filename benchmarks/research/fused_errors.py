"""Research: how a bundle's output gets objects wrong on bar scenes of the training split.

Each true object of scenes [start, start + count) of the bar's generator (seed 0, never the
test scenes 100 000+) is classed by the runtime's output: `missed` (under half its pixels
foreground), `split` (two labels each hold ≥ 20 % of it), `merged` (its main label also
holds ≥ 30 % of another object) or `good`; `false_segments` counts labels mostly on the
background. `--neck` overrides fusion's long-cut rule (sdk.fixed_camera.fused.NECK) to see
what it trades.

    python benchmarks/research/fused_errors.py BUNDLE --mode default --json out.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "benchmarks"):
    sys.path.insert(0, str(path))

from common import git_revision, machine  # noqa: E402

import sdk.fixed_camera.fused as fused  # noqa: E402
from training.data.synthetic import SceneConfig, SyntheticScenes  # noqa: E402
from training.evaluation.predictors import SegmenterPredictor  # noqa: E402

MISSED, SPLIT, MERGED = 0.5, 0.2, 0.3


def classify(truth: np.ndarray, labels: np.ndarray) -> dict[str, int]:
    out = {"objects": 0, "missed": 0, "split": 0, "merged": 0, "good": 0, "false_segments": 0}
    ids = [int(t) for t in np.unique(truth) if t]
    for t in ids:
        mine = truth == t
        out["objects"] += 1
        values, counts = np.unique(labels[mine], return_counts=True)
        share = dict(zip(values.tolist(), (counts / mine.sum()).tolist(), strict=True))
        if 1 - share.get(0, 0.0) < MISSED:
            out["missed"] += 1
            continue
        if sum(1 for v, s in share.items() if v and s >= SPLIT) >= 2:
            out["split"] += 1
            continue
        main = max((v for v in share if v), key=lambda v: share[v])
        held = [
            u
            for u in ids
            if u != t and ((truth == u) & (labels == main)).sum() >= MERGED * (truth == u).sum()
        ]
        out["merged" if held else "good"] += 1
    out["false_segments"] = sum(
        1 for v in np.unique(labels) if v and (truth[labels == v] != 0).mean() < 0.5
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--mode", choices=["default", "slots"], default="default")
    parser.add_argument("--objects", type=int, default=4, help="most objects per scene")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--neck", type=float, help="override fusion's NECK")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    if args.neck is not None:
        fused.NECK = args.neck
    predictor = SegmenterPredictor(args.bundle, None if args.mode == "default" else "slots")
    height, width = predictor.image_size
    scenes = SyntheticScenes(
        SceneConfig(
            height=height, width=width, max_objects=args.objects, background="fixed", seed=0
        ),
        args.start + args.count,
    )
    totals: dict[str, int] = {}
    for first in range(args.start, args.start + args.count, 50):
        batch = [scenes[i] for i in range(first, min(first + 50, args.start + args.count))]
        labels = predictor.predict(np.stack([s.image for s in batch])).segmentation
        for scene, predicted in zip(batch, labels, strict=True):
            for key, value in classify(scene.mask, predicted).items():
                totals[key] = totals.get(key, 0) + value
    shares = {k: v / totals["objects"] for k, v in totals.items() if k != "objects"}
    report = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "git_revision": git_revision(),
        "machine": machine("cpu"),
        "bundle_checkpoint": json.loads((args.bundle / "astseg.json").read_text())
        .get("training", {})
        .get("checkpoint"),
        "scenes": [args.start, args.start + args.count],
        "counts": totals,
        "shares": shares,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(shares))


if __name__ == "__main__":
    main()
