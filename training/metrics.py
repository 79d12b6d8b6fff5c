"""Segmentation, reconstruction, change-detection and identity metrics on numpy arrays.

Definitions follow the ClevrTex benchmark evaluator (DESIGN §5), so that `astseg eval`
scores a PyTorch checkpoint and an exported bundle with the same code:
- ARI-FG: adjusted Rand index over the pixels whose true label is > 0, computed exactly as
  `sklearn.metrics.adjusted_rand_score` (pair-confusion form, Python integers).
- mIoU: IoU matrix of true masks (rows, background first) against predicted layers
  (columns), both padded with empty masks to one size; empty masks score 0; Hungarian
  matching maximises the total IoU. A pair counts when either of its masks is non-empty.
  `miou_fg` = matched IoUs of the true objects / (pairs - the background pair), as the
  ClevrTex tables report it; `miou` = all matched IoUs / pairs, background included.
- MSC-FG: mean over true objects of the best IoU with any predicted segment.
- MSE: per image, sum over C x H x W of squared error with pixels in [0, 1].
- CDnet: 255 = moving, 0 and 50 (shadow) = static, 85 (outside ROI) and 170 (unknown)
  are ignored, as are frames outside temporalROI (the readers leave those unlabelled).
- Identity: per frame, true objects and predicted tracks are matched by Hungarian IoU
  (kept when IoU >= 0.5); a switch is a true object matched to a track id that differs
  from the id it was last matched to (CLEAR-MOT).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

MAX_PREDICTED_LABEL = 4096


def _pair_counts(labels_true: np.ndarray, labels_pred: np.ndarray) -> tuple[int, int, int, int]:
    """(tn, fp, fn, tp) of sklearn's `pair_confusion_matrix`, as Python integers."""
    n = int(labels_true.size)
    if n == 0:
        return 0, 0, 0, 0
    _, t = np.unique(labels_true, return_inverse=True)
    _, p = np.unique(labels_pred, return_inverse=True)
    t, p = t.ravel(), p.ravel()
    joint = np.bincount(t * (int(p.max()) + 1) + p)
    sum_squares = int(np.dot(joint, joint))
    rows = np.bincount(t)
    cols = np.bincount(p)
    row_squares, col_squares = int(np.dot(rows, rows)), int(np.dot(cols, cols))
    tp = sum_squares - n
    fp = col_squares - sum_squares
    fn = row_squares - sum_squares
    tn = n * n - fp - fn - sum_squares
    return tn, fp, fn, tp


def adjusted_rand_index(labels_true: np.ndarray, labels_pred: np.ndarray) -> float:
    """sklearn's `adjusted_rand_score` (1.0 for empty input or identical partitions)."""
    labels_true, labels_pred = np.asarray(labels_true).ravel(), np.asarray(labels_pred).ravel()
    if labels_true.shape != labels_pred.shape:
        raise ValueError(f"label arrays differ in size: {labels_true.size} vs {labels_pred.size}")
    tn, fp, fn, tp = _pair_counts(labels_true, labels_pred)
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def ari_fg(true_mask: np.ndarray, segmentation: np.ndarray) -> float:
    """ARI over the true-foreground pixels of one image (1.0 when there are none, as sklearn)."""
    _check_pair(true_mask, segmentation)
    foreground = true_mask > 0
    return adjusted_rand_index(true_mask[foreground], segmentation[foreground])


def _check_pair(true_mask: np.ndarray, segmentation: np.ndarray) -> None:
    if true_mask.shape != segmentation.shape:
        raise ValueError(f"mask shape {true_mask.shape} != segmentation shape {segmentation.shape}")


@dataclass(frozen=True)
class Overlap:
    """Pixel counts of true masks (rows, row 0 = background) against predicted labels."""

    intersection: np.ndarray  # int64 [M, M]
    true_area: np.ndarray  # int64 [M]
    pred_area: np.ndarray  # int64 [M]
    num_true: int  # rows that are real labels (background + objects present)

    @property
    def iou(self) -> np.ndarray:
        union = self.true_area[:, None] + self.pred_area[None, :] - self.intersection
        iou = np.divide(self.intersection, union, out=np.zeros(union.shape), where=union > 0)
        iou[self.true_area == 0, :] = 0.0
        iou[:, self.pred_area == 0] = 0.0
        return iou


def overlap(true_mask: np.ndarray, segmentation: np.ndarray, num_layers: int = 0) -> Overlap:
    """True ids are compacted (0 stays row 0); predicted labels index columns directly."""
    _check_pair(true_mask, segmentation)
    pred = np.asarray(segmentation).ravel().astype(np.int64)
    if pred.size and (pred.min() < 0 or pred.max() >= MAX_PREDICTED_LABEL):
        raise ValueError(
            f"predicted labels must lie in 0..{MAX_PREDICTED_LABEL - 1} (layer indices), "
            f"got {pred.min()}..{pred.max()}"
        )
    ids = np.unique(true_mask)
    ids = np.concatenate([[0], ids[ids != 0]])
    rows = np.searchsorted(ids, np.asarray(true_mask).ravel())
    size = max(len(ids), int(pred.max()) + 1 if pred.size else 0, num_layers)
    joint = np.bincount(rows * size + pred, minlength=size * size).reshape(size, size)
    return Overlap(joint, joint.sum(1), joint.sum(0), len(ids))


def matched_iou(
    true_mask: np.ndarray, segmentation: np.ndarray, num_layers: int = 0
) -> tuple[float, float]:
    """(miou_fg, miou) of one image; miou_fg is NaN when no object pair exists.

    `num_layers` (K + 1) pads the predicted side to the model's layer count, the size the
    ClevrTex evaluator matches over.
    """
    ov = overlap(true_mask, segmentation, num_layers)
    iou = ov.iou
    rows, cols = linear_sum_assignment(iou, maximize=True)
    matched = iou[rows, cols]
    visible = (ov.true_area[rows] > 0) | (ov.pred_area[cols] > 0)
    pairs = int(visible.sum())
    # ClevrTex divides by pairs - 1, counting the background pair out; that pair is always
    # visible there, and here it is only counted out when it is (images with no background).
    object_pairs = pairs - int(visible[0])
    miou = float(matched.sum() / pairs) if pairs else math.nan
    miou_fg = float(matched[1:].sum() / object_pairs) if object_pairs else math.nan
    return miou_fg, miou


def msc_fg(true_mask: np.ndarray, segmentation: np.ndarray) -> float:
    """Mean over true objects of the best IoU with any predicted segment; NaN without objects."""
    ov = overlap(true_mask, segmentation)
    if ov.num_true <= 1:
        return math.nan
    best = ov.iou[1 : ov.num_true].max(axis=1)
    return float(best.mean())


def mse(image: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """Per-image sum of squared errors over C x H x W; uint8 images are scaled to [0, 1].

    Accepts one image [H, W, C] (returns a 0-d array) or a batch [N, H, W, C].
    """
    truth = np.asarray(image, np.float64)
    if np.asarray(image).dtype == np.uint8:
        truth = truth / 255.0
    recon = np.asarray(reconstruction, np.float64)
    if truth.shape != recon.shape:
        raise ValueError(f"image shape {truth.shape} != reconstruction shape {recon.shape}")
    return ((truth - recon) ** 2).sum(axis=(-3, -2, -1))


# ------------------------------------------------------------------ CDnet change detection
CDNET_MOVING, CDNET_STATIC, CDNET_SHADOW = 255, 0, 50


@dataclass
class ChangeCounts:
    """Pixel counts of a change-detection result over the scored pixels of a video."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def __add__(self, other: ChangeCounts) -> ChangeCounts:
        return ChangeCounts(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn
        )

    @staticmethod
    def _ratio(num: int, den: int) -> float:
        return num / den if den else math.nan

    @property
    def precision(self) -> float:
        return self._ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return self._ratio(self.tp, self.tp + self.fn)

    @property
    def f_measure(self) -> float:
        p, r = self.precision, self.recall
        if math.isnan(p) or math.isnan(r) or p + r == 0:
            return 0.0 if p + r == 0 else math.nan
        return 2 * p * r / (p + r)

    @property
    def specificity(self) -> float:
        return self._ratio(self.tn, self.tn + self.fp)

    @property
    def pwc(self) -> float:
        """Percentage of wrong classifications."""
        return self._ratio(100 * (self.fp + self.fn), self.tp + self.fp + self.fn + self.tn)

    def scores(self) -> dict[str, float]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f_measure": self.f_measure,
            "specificity": self.specificity,
            "pwc": self.pwc,
        }


def change_counts(foreground: np.ndarray, labels: np.ndarray) -> ChangeCounts:
    """Counts one frame: `foreground` bool [H, W] against CDnet-coded `labels`."""
    _check_pair(labels, foreground)
    foreground = np.asarray(foreground, bool)
    moving = labels == CDNET_MOVING
    static = (labels == CDNET_STATIC) | (labels == CDNET_SHADOW)
    return ChangeCounts(
        tp=int((foreground & moving).sum()),
        fp=int((foreground & static).sum()),
        fn=int((~foreground & moving).sum()),
        tn=int((~foreground & static).sum()),
    )


# ------------------------------------------------------------------ identity over a video
@dataclass
class IdentityScores:
    frames: int
    objects: int  # distinct true objects seen
    object_frames: int  # (object, frame) pairs where the object is visible
    matched_share: float  # of object_frames, matched to a track with IoU >= threshold
    id_switches: int
    switches_per_100_frames: float
    single_id_share: float  # objects whose matches all carry one track id (>= 1 match)
    fully_tracked_share: float  # ... and matched in every frame where they are visible


@dataclass
class IdentityCounter:
    """Accumulates identity statistics frame by frame (0 = background on both sides)."""

    iou_threshold: float = 0.5
    frames: int = 0
    object_frames: int = 0
    matches: int = 0
    switches: int = 0
    last_track: dict[int, int] = field(default_factory=dict)
    tracks_of: dict[int, set[int]] = field(default_factory=dict)
    visible: dict[int, int] = field(default_factory=dict)
    matched: dict[int, int] = field(default_factory=dict)

    def update(self, true_ids: np.ndarray, track_ids: np.ndarray) -> None:
        _check_pair(true_ids, track_ids)
        self.frames += 1
        truth, tracks = np.asarray(true_ids).ravel(), np.asarray(track_ids).ravel()
        t_ids, t_idx = np.unique(truth, return_inverse=True)
        p_ids, p_idx = np.unique(tracks, return_inverse=True)
        joint = np.bincount(t_idx * len(p_ids) + p_idx, minlength=len(t_ids) * len(p_ids))
        inter = joint.reshape(len(t_ids), len(p_ids)).astype(np.float64)
        t_area, p_area = inter.sum(1), inter.sum(0)
        keep_t, keep_p = t_ids != 0, p_ids != 0
        inter, t_area, p_area = inter[keep_t][:, keep_p], t_area[keep_t], p_area[keep_p]
        objects, track_list = t_ids[keep_t], p_ids[keep_p]
        for obj in objects.tolist():
            self.visible[obj] = self.visible.get(obj, 0) + 1
            self.tracks_of.setdefault(obj, set())
        self.object_frames += len(objects)
        if not len(objects) or not len(track_list):
            return
        iou = inter / (t_area[:, None] + p_area[None, :] - inter)
        rows, cols = linear_sum_assignment(iou, maximize=True)
        for r, c in zip(rows, cols, strict=True):
            if iou[r, c] < self.iou_threshold:
                continue
            obj, track = int(objects[r]), int(track_list[c])
            self.matches += 1
            self.matched[obj] = self.matched.get(obj, 0) + 1
            if obj in self.last_track and self.last_track[obj] != track:
                self.switches += 1
            self.last_track[obj] = track
            self.tracks_of[obj].add(track)

    def result(self) -> IdentityScores:
        objects = len(self.visible)
        single = [o for o, tracks in self.tracks_of.items() if len(tracks) == 1]
        full = [o for o in single if self.matched.get(o, 0) == self.visible[o]]
        share = (lambda n: n / objects) if objects else (lambda n: math.nan)
        return IdentityScores(
            frames=self.frames,
            objects=objects,
            object_frames=self.object_frames,
            matched_share=self.matches / self.object_frames if self.object_frames else math.nan,
            id_switches=self.switches,
            switches_per_100_frames=100.0 * self.switches / self.frames
            if self.frames
            else math.nan,
            single_id_share=share(len(single)),
            fully_tracked_share=share(len(full)),
        )


def identity_scores(
    true_maps: list[np.ndarray], track_maps: list[np.ndarray], iou_threshold: float = 0.5
) -> IdentityScores:
    """Identity statistics of a whole video given per-frame true and predicted id maps."""
    if len(true_maps) != len(track_maps):
        raise ValueError(f"{len(true_maps)} true frames but {len(track_maps)} predicted frames")
    counter = IdentityCounter(iou_threshold)
    for truth, tracks in zip(true_maps, track_maps, strict=True):
        counter.update(truth, tracks)
    return counter.result()
