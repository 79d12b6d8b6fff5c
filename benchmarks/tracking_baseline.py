"""The tracking baseline: connected components tracked by supervision's ByteTrack.

What a fixed-camera user assembles from stock parts: background subtraction + connected
components (here the benchmark's KNN components), each component's bounding box one
detection with confidence 1 (components carry no score), ByteTrack with its defaults.
A track's mask is the component its box came from, so the result is a label map of
track IDs that scores like astseg's.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def component_boxes(instances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, boxes x0 y0 x1 y1 float32, x1 / y1 exclusive) of the non-zero labels."""
    ys, xs = np.nonzero(instances)
    labels, index = np.unique(instances[ys, xs], return_inverse=True)
    n = len(labels)
    x0, y0 = np.full(n, instances.shape[1]), np.full(n, instances.shape[0])
    x1, y1 = np.zeros(n, np.int64), np.zeros(n, np.int64)
    np.minimum.at(x0, index, xs)
    np.minimum.at(y0, index, ys)
    np.maximum.at(x1, index, xs + 1)
    np.maximum.at(y1, index, ys + 1)
    return labels, np.stack([x0, y0, x1, y1], 1).astype(np.float32)


class ByteTrackBaseline:
    """Instance label maps in, track-ID label maps out (0 = background)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        import supervision as sv

        self.sv = sv
        self.tracker = sv.ByteTrack()

    @property
    def parameters(self) -> dict[str, Any]:
        return {
            "tracker": f"supervision {self.sv.__version__} ByteTrack, defaults",
            "detections": "KNN connected components' boxes, confidence 1",
            "masks": "the component matched to each track",
        }

    def __call__(self, instances: np.ndarray) -> np.ndarray:
        labels, boxes = component_boxes(instances)
        if not len(labels):
            # An empty frame still advances the tracker (lost tracks age).
            self.tracker.update_with_detections(self.sv.Detections.empty())
            return np.zeros(instances.shape, np.int32)
        detections = self.sv.Detections(
            xyxy=boxes,
            confidence=np.ones(len(labels), np.float32),
            class_id=np.zeros(len(labels), int),
            data={"component": labels},
        )
        tracked = self.tracker.update_with_detections(detections)
        if not len(tracked) or tracked.tracker_id is None:
            return np.zeros(instances.shape, np.int32)  # no confirmed track yet
        lut = np.zeros(int(instances.max()) + 1, np.int32)
        lut[tracked.data["component"]] = tracked.tracker_id
        return lut[instances]
