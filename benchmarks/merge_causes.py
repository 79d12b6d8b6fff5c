"""Touching objects reported as one, and which part of astseg merged them (issue 22).

A reported object merges true objects when it holds at least MIN_SHARE of each one's
pixels. Each true object beyond the first (the one it holds most of) is one merge, put down
to its cause by the slot model's own labels on the two objects' pixels:
- "background": one of the two lies mostly in the slot model's background layer;
- "one_slot": one slot owns most of both;
- "fusion": the slots told them apart and the fused foreground joined them.
The first two are the slot model's (`slot_merges`); the third is the foreground rule's.
"""

from __future__ import annotations

from collections import Counter

import cv2
import numpy as np

MIN_SHARE = 0.5
SLOT_CAUSES = ("background", "one_slot")


def _majority(labels: np.ndarray) -> int:
    values, counts = np.unique(labels, return_counts=True)
    return int(values[np.argmax(counts)])


def merges_in_frame(truth: np.ndarray, objects: np.ndarray, slot_labels: np.ndarray) -> Counter:
    """truth: [H, W] true ids (0 = none); objects: [H, W] reported ids (0 = none);
    slot_labels: the slot model's labels (0 = its background), any size. Counts by cause."""
    if slot_labels.shape != truth.shape:
        height, width = truth.shape
        slot_labels = cv2.resize(
            slot_labels.astype(np.int32), (width, height), interpolation=cv2.INTER_NEAREST
        )
    causes: Counter = Counter()
    true_ids = [i for i in np.unique(truth) if i != 0]
    if not true_ids:
        return causes
    areas = {i: int(np.count_nonzero(truth == i)) for i in true_ids}
    for obj in np.unique(objects):
        if obj == 0:
            continue
        inside = truth[objects == obj]
        held = Counter(int(i) for i in inside[inside != 0])
        merged = [i for i, n in held.items() if n >= MIN_SHARE * areas[i]]
        if len(merged) < 2:
            continue
        merged.sort(key=lambda i: -held[i])
        first = _majority(slot_labels[truth == merged[0]])
        for other in merged[1:]:
            second = _majority(slot_labels[truth == other])
            if first == 0 or second == 0:
                causes["background"] += 1
            elif first == second:
                causes["one_slot"] += 1
            else:
                causes["fusion"] += 1
    return causes


def slot_merges(causes: Counter) -> int:
    return sum(causes[c] for c in SLOT_CAUSES)
