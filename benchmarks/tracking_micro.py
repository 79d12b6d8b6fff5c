"""Tracking cost per frame at crowd size, without a model: 40 discs at 1280x720 walking
past one another, as fused labels (issue 21: tracking <= 3 ms a frame at 40 objects).

Two figures, median over the frames after the first 10:
- `tracker_ms`: sdk.tracker.Tracker.update on 40 observations (cost matrix + assignment);
- `object_tracks_ms`: sdk.fixed_camera.object_tracks.ObjectTracks.update, the whole
  fixed-camera step after fusion (split by predicted masks, match, evidence, masks kept),
  with pairs of discs touching so that blobs are split.

    python benchmarks/tracking_micro.py [--objects 40] [--frames 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sdk.fixed_camera.fused import FusedLabels, FusedObject, measure_labels  # noqa: E402
from sdk.fixed_camera.object_tracks import ObjectTracks  # noqa: E402
from sdk.tracker import Observation, Tracker  # noqa: E402

H, W, R = 720, 1280, 14


def _frame(t: int, n: int) -> FusedLabels:
    """n discs on rows, each row's pairs moving toward and past each other (contacts)."""
    labels = np.zeros((H, W), np.uint8)
    rows = 5
    for k in range(n):
        row, col = k % rows, k // rows
        direction = 1 if k % 2 else -1
        x = (60 + 150 * col + direction * 2 * t) % W
        y = 80 + 130 * row
        blob = np.zeros((H, W), np.uint8)
        cv2.circle(blob, (int(x), int(y)), R, 1, -1)
        labels[(blob > 0) & (labels == 0)] = k + 1
    # touching discs are one blob, as fusion gives them: merge 8-connected neighbours
    count, comp = cv2.connectedComponents((labels > 0).view(np.uint8), connectivity=8)
    merged = np.where(labels > 0, comp, 0).astype(np.uint8)
    return FusedLabels(merged, measure_labels(merged, {}))


def _observe(obj: FusedObject, labels: np.ndarray | None = None) -> Observation:
    x0, y0, x1, y1 = obj.bbox
    return Observation(
        position=np.array([obj.centroid[0] / W * 2 - 1, obj.centroid[1] / H * 2 - 1]),
        size=np.array([2.0 * (x1 - x0) / W, 2.0 * (y1 - y0) / H]),
        appearance=np.random.default_rng(obj.label).normal(size=8),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=40)
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    frames = [_frame(t, args.objects) for t in range(args.frames)]
    observed = [[_observe(o) for o in f.objects] for f in frames]
    tracker, times = Tracker(), []
    for obs in observed:
        t0 = time.perf_counter()
        tracker.update(obs)
        times.append((time.perf_counter() - t0) * 1000)
    tracks, step = ObjectTracks(Tracker()), []
    objects = []
    for fused in frames:
        t0 = time.perf_counter()
        reported, _ = tracks.update(fused, _observe)
        step.append((time.perf_counter() - t0) * 1000)
        objects.append(len(reported.objects))
    print(
        f"{args.objects} objects, {W}x{H}: tracker {statistics.median(times[10:]):.2f} ms, "
        f"object_tracks {statistics.median(step[10:]):.2f} ms a frame "
        f"(reported objects a frame: median {statistics.median(objects[10:]):.0f}, "
        f"fused blobs {statistics.median(len(f.objects) for f in frames[10:]):.0f})"
    )


if __name__ == "__main__":
    main()
