"""Tracking in the classical benchmark: per clip, per group, the summary keys, the bar.

`ClipTracking` runs the baseline tracker on every frame of a clip (warm-up included: a
tracker must see the frames its tracks came from) and scores the trackers on the scored
frames. Group figures are the mean of their clips; the summary the mean over groups.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
from tracking_baseline import ByteTrackBaseline

from training.evaluation.tracking_metrics import SIMILARITY, TrackingAccumulator

TRACKERS = ("astseg", "astseg_slots", "baseline")
FIGURES = ("hota", "idf1", "mota", "id_switches_per_100", "objects_per_frame")
KEYS = (*(f"{t}_{f}" for t in TRACKERS for f in FIGURES), "true_objects_per_frame")
# Issue 21's bar, mean over groups; astseg must also beat the baseline in every group.
TARGETS = {"idf1": 0.85, "hota": 0.75}
OBJECTS_RATIO = 1.2  # predicted objects per frame at most this times the true count
BASELINE_LABEL = "OpenCV KNN + CC + supervision ByteTrack"


class ClipTracking:
    """The trackers' scores on one clip; `astseg` names are the astseg runs made."""

    def __init__(self, astseg: list[str]) -> None:
        self.baseline = ByteTrackBaseline()
        self.scores = {name: TrackingAccumulator() for name in (*astseg, "baseline")}
        self.seconds: list[float] = []

    def track(self, knn_instances: np.ndarray) -> np.ndarray:
        """The baseline's track-ID map for this frame (KNN's components tracked)."""
        start = time.perf_counter()
        out = self.baseline(knn_instances)
        self.seconds.append(time.perf_counter() - start)
        return out

    def score(self, truth: np.ndarray, predicted: dict[str, np.ndarray]) -> None:
        for name, labels in predicted.items():
            self.scores[name].update(truth, labels)

    def result(self, aliases: dict[str, str]) -> dict[str, Any]:
        out = {name: acc.result() for name, acc in self.scores.items()}
        for alias, target in aliases.items():
            out[alias] = out[target]
        ms = statistics.median(self.seconds) * 1000 if self.seconds else None
        out["baseline"]["tracker_ms_per_frame_median"] = None if ms is None else round(ms, 3)
        return out


def mean_or_none(values: list[Any]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.fmean(present), 4) if present else None


def tracking_figures(clips: dict[str, dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """KEYS as the mean over the named clips' `tracking` results."""
    out = {
        f"{t}_{f}": mean_or_none([clips[c]["tracking"][t].get(f) for c in names])
        for t in TRACKERS
        for f in FIGURES
    }
    true = [clips[c]["tracking"]["astseg"].get("true_objects_per_frame") for c in names]
    out["true_objects_per_frame"] = mean_or_none(true)
    return out


def summary_figures(groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """KEYS as the mean over groups, with what the metrics match on."""
    out: dict[str, Any] = {k: mean_or_none([g.get(k) for g in groups.values()]) for k in KEYS}
    out["tracking_similarity"] = SIMILARITY
    return out


def tracking_targets(summary: dict[str, Any]) -> dict[str, Any]:
    """Issue 21's tracking bar, checked on the numbers."""

    def at_least(value: float | None, bar: float | None) -> bool:
        return value is not None and bar is not None and value >= bar

    headline = {}
    for m, t in TARGETS.items():
        ours = summary[f"astseg_{m}"]
        headline[m] = {"astseg": ours, "target": t, "met": at_least(ours, t)}
    per_group: dict[str, Any] = {}
    for group, f in summary["groups"].items():
        checks: dict[str, Any] = {}
        for m in TARGETS:
            ours, theirs = f[f"astseg_{m}"], f[f"baseline_{m}"]
            checks[m] = {
                "astseg": ours,
                "baseline": theirs,
                "met": ours is not None and theirs is not None and ours > theirs,
            }
        true = f["true_objects_per_frame"]
        limit = None if true is None else round(OBJECTS_RATIO * true, 4)
        predicted = f["astseg_objects_per_frame"]
        checks["objects_per_frame"] = {
            "astseg": predicted,
            "true": true,
            "limit": limit,
            "met": predicted is not None and limit is not None and predicted <= limit,
        }
        per_group[group] = checks
    every = [h["met"] for h in headline.values()]
    every += [c["met"] for g in per_group.values() for c in g.values()]
    return {
        "headline": headline,
        "above_baseline_per_group": per_group,
        "all_met": bool(every) and all(every),
    }
