"""Tracking metrics on label maps: HOTA, IDF1, MOTA and ID switches, computed by TrackEval.

A frame is two int label maps, 0 = background: the truth's object IDs and a method's
track IDs. Every label present is one detection; the similarity of a true and a
predicted object is their mask IoU (HOTA's similarity for segmentation, as in
TrackEval's MOTS evaluation), exact from the joint histogram of the two maps. CLEAR
(MOTA, ID switches) and Identity (IDF1) match at IoU >= 0.5; HOTA averages
sqrt(DetA * AssA) over IoU thresholds 0.05 .. 0.95 (Luiten et al. 2021).

`astseg eval` on labelled video and the classical benchmark both score with this module.
TrackEval comes with the optional `bench` extra; `trackeval_missing()` says how to get it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import Any

import numpy as np

SIMILARITY = "mask IoU"
RESULT_KEYS = (
    *("hota", "deta", "assa", "idf1", "mota", "id_switches", "id_switches_per_100", "frames"),
    *("objects_per_frame", "true_objects_per_frame", "track_ids", "true_ids"),
)


INSTALL_HINT = (
    "tracking metrics (HOTA, IDF1, MOTA) need TrackEval: "
    'pip install "astseg[bench]" (or pip install "trackeval>=1.3,<2")'
)


def trackeval_missing() -> str | None:
    """The one sentence saying how to install TrackEval, or None when it is installed."""
    return None if find_spec("trackeval") is not None else INSTALL_HINT


def mask_ious(
    truth: np.ndarray, predicted: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true labels, predicted labels, IoU [true, predicted]) of the objects in one frame."""
    t_ids, t_idx = np.unique(truth, return_inverse=True)
    p_ids, p_idx = np.unique(predicted, return_inverse=True)
    joint = np.bincount(
        t_idx.ravel() * len(p_ids) + p_idx.ravel(), minlength=len(t_ids) * len(p_ids)
    ).reshape(len(t_ids), len(p_ids))
    # Drop background rows / columns (label 0, first after the sort when present).
    t_keep, p_keep = t_ids != 0, p_ids != 0
    inter = joint[np.ix_(t_keep, p_keep)].astype(np.float64)
    t_area, p_area = joint.sum(1)[t_keep], joint.sum(0)[p_keep]
    union = t_area[:, None] + p_area[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return t_ids[t_keep], p_ids[p_keep], iou


@dataclass
class TrackingAccumulator:
    """Frames of one method on one clip, kept as TrackEval's per-sequence input."""

    gt: list[np.ndarray] = field(default_factory=list)
    tracker: list[np.ndarray] = field(default_factory=list)
    similarity: list[np.ndarray] = field(default_factory=list)

    def update(self, truth: np.ndarray, predicted: np.ndarray) -> None:
        gt, tr, iou = mask_ious(truth, predicted)
        self.gt.append(gt)
        self.tracker.append(tr)
        self.similarity.append(iou)

    def sequence(self) -> dict[str, Any]:
        """TrackEval's data dict: IDs renumbered 0..n-1 over the clip, as its metrics need."""
        gt_all = np.unique(np.concatenate([*self.gt, np.zeros(0, np.int64)]))
        tr_all = np.unique(np.concatenate([*self.tracker, np.zeros(0, np.int64)]))
        return {
            "num_timesteps": len(self.gt),
            "num_gt_ids": len(gt_all),
            "num_tracker_ids": len(tr_all),
            "num_gt_dets": sum(len(g) for g in self.gt),
            "num_tracker_dets": sum(len(t) for t in self.tracker),
            "gt_ids": [np.searchsorted(gt_all, g) for g in self.gt],
            "tracker_ids": [np.searchsorted(tr_all, t) for t in self.tracker],
            "similarity_scores": self.similarity,
        }

    def result(self) -> dict[str, Any]:
        """HOTA (with DetA, AssA), IDF1, MOTA, ID switches, objects per frame; each None
        when no frame was added."""
        from trackeval.metrics import CLEAR, HOTA, Identity

        frames = len(self.gt)
        if not frames:
            return {k: None for k in RESULT_KEYS} | {"frames": 0}
        data = self.sequence()
        hota = HOTA().eval_sequence(data)
        clear = CLEAR({"PRINT_CONFIG": False}).eval_sequence(data)
        ident = Identity({"PRINT_CONFIG": False}).eval_sequence(data)
        switches = int(clear["IDSW"])
        return {
            "hota": round(float(np.mean(hota["HOTA"])), 4),
            "deta": round(float(np.mean(hota["DetA"])), 4),
            "assa": round(float(np.mean(hota["AssA"])), 4),
            "idf1": round(float(ident["IDF1"]), 4),
            "mota": round(float(clear["MOTA"]), 4),
            "id_switches": switches,
            "id_switches_per_100": round(100.0 * switches / frames, 3),
            "frames": frames,
            "objects_per_frame": round(data["num_tracker_dets"] / frames, 3),
            "true_objects_per_frame": round(data["num_gt_dets"] / frames, 3),
            "track_ids": data["num_tracker_ids"],
            "true_ids": data["num_gt_ids"],
        }
