"""An object's chromaticity under its own mask: the identity cue that survives contacts.

The slots' z_what follows the slot, not the object: when two objects touch, a slot may
move from one to the other, and foreground no slot claims has no z_what at all. The
pixels under a mask belong to the object whichever slot drew it, so their mean colour
tells two objects apart when they part again (issue 21: IDs kept through contacts). The
mean is divided by its sum (chromaticity), so a light that brightens or dims the scene
does not change it. One masked `cv2.mean` per object box, on the background graph's input
(the frame resized to the foreground map, where tracking runs).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from sdk.fixed_camera.fused import FusedObject


def mean_colour(frame: np.ndarray, labels: np.ndarray, obj: FusedObject) -> np.ndarray | None:
    """(3,) chromaticity (sums to 1) of the mean of the frame's first three channels over
    the object's pixels; None where there is no hue to go by (a grey-level frame, a black
    object, or values that are not finite and non-negative), which the tracker ignores."""
    if frame.ndim != 3 or frame.shape[2] < 3:
        return None
    x0, y0, x1, y1 = obj.bbox
    mine = (labels[y0:y1, x0:x1] == obj.label).view(np.uint8)
    # three Python floats: 35 objects a frame make numpy's per-call cost the larger part
    first, second, third = cv2.mean(frame[y0:y1, x0:x1], mask=mine)[:3]
    total = first + second + third
    if not (math.isfinite(total) and total > 1e-6 and min(first, second, third) >= 0):
        return None
    return np.array((first / total, second / total, third / total))
