"""Objects on real footage with foreground-only ground truth (CDnet): how many a method
reports against how many moving regions the truth holds, and how many lie off it.

CDnet labels pixels, not objects, so the true count is the truth's connected foreground
regions of at least `min_area` pixels (two touching cars count as one: a floor, not an
exact count). A reported object is *off the truth* when under a fifth of its pixels are
foreground or unknown in the truth: a speck on the trees, a shaking edge. Labels are read
for scoring only.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

OFF_TRUTH_SHARE = 0.2  # an object with less of its area on the truth's moving pixels is off it
FOREGROUND, UNKNOWN = 255, 170  # CDnet's ground-truth values (shadow 50 counts as background)


def object_scores(sequence: Path, masks: Path, min_area: int) -> dict[str, float]:
    """Per scored frame, averaged: `true_regions_per_frame`, `objects_per_scored_frame` (labels in
    the masks `astseg run --masks` wrote) and `objects_off_truth_per_frame`."""
    from training.data.cdnet import CdnetSequence

    data = CdnetSequence(sequence, scored_only=True)
    regions, objects, off = [], [], []
    for index in range(len(data)):
        sample = data[index]
        truth = sample.motion_labels  # outside the ROI already 85: neither moving nor unknown
        assert truth is not None and sample.frame is not None
        labels = cv2.imread(str(masks / f"in{sample.frame:06d}.png"), cv2.IMREAD_UNCHANGED)
        if labels is None:
            raise SystemExit(f"real_objects: {masks} has no mask for frame {sample.frame}")
        moving = (truth == FOREGROUND).view(np.uint8)
        _, _, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
        regions.append(int((stats[1:, cv2.CC_STAT_AREA] >= min_area).sum()))
        ids, inverse = np.unique(labels, return_inverse=True)
        on = ((truth == FOREGROUND) | (truth == UNKNOWN)).ravel()
        area = np.bincount(inverse.ravel(), minlength=len(ids))
        on_truth = np.bincount(inverse.ravel(), weights=on, minlength=len(ids))
        reported = ids != 0
        objects.append(int(reported.sum()))
        off.append(int((reported & (on_truth < OFF_TRUTH_SHARE * area)).sum()))
    return {
        "true_regions_per_frame": round(float(np.mean(regions)), 3),
        "objects_per_scored_frame": round(float(np.mean(objects)), 3),
        "objects_off_truth_per_frame": round(float(np.mean(off)), 3),
    }
