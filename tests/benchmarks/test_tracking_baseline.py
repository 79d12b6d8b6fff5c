"""The classical benchmark's baseline tracker (KNN components + supervision's ByteTrack)."""

from __future__ import annotations

import numpy as np
from tracking_baseline import ByteTrackBaseline, component_boxes


def square(labels: dict[int, tuple[int, int]], size: int = 4) -> np.ndarray:
    """A 20x40 label map with a size x size square of each label at its (y, x)."""
    out = np.zeros((20, 40), np.int32)
    for label, (y, x) in labels.items():
        out[y : y + size, x : x + size] = label
    return out


def test_component_boxes():
    labels, boxes = component_boxes(square({3: (1, 2), 7: (10, 30)}, size=3))
    assert labels.tolist() == [3, 7]
    assert boxes.tolist() == [[2, 1, 5, 4], [30, 10, 33, 13]]


def test_bytetrack_baseline_keeps_ids_of_separate_components():
    tracker = ByteTrackBaseline()
    seen = []
    for t in range(12):
        # component numbers swap every frame (connected components carry no identity)
        a, b = (1, 2) if t % 2 else (2, 1)
        out = tracker(square({a: (2, 2 * t), b: (12, 30 - 2 * t)}))
        assert out.dtype == np.int32 and out.shape == (20, 40)
        seen.append((out[3, 2 * t + 1], out[13, 31 - 2 * t]))
    # tracks are confirmed on the second frame, then each square keeps one ID
    confirmed = seen[1:]
    assert all(pair[0] and pair[1] for pair in confirmed)
    assert len({p[0] for p in confirmed}) == 1 and len({p[1] for p in confirmed}) == 1
    assert confirmed[0][0] != confirmed[0][1]
    assert not tracker(np.zeros((20, 40), np.int32)).any()
