"""Small camera shifts: how far the frame moved against the learnt background, and the
background moved to match.

A camera on a pole or a shelf shakes by a few pixels (wind, traffic, a door). Every edge of
the scene then differs from the background by a whole texture step and, left alone, becomes
a line of foreground along each edge (CDnet's "traffic" shakes by up to 17 px). The shift is
one translation for the whole view, measured by phase correlation (cv2.phaseCorrelate, the
peak of the normalised cross-power spectrum) between the grey frame and the grey background
at the background's resolution (under 1 ms at 320x240 on one core, to a fraction of a
pixel); the background and its noise map are then translated by
it. A shift is only believed when it explains the frame: a peak weaker than `MIN_RESPONSE`,
a shift larger than the caller's limit, or one that does not lower the median grey
difference by `MIN_GAIN` (a bright object or a light ramp can pull the peak by pixels on a
still camera) leaves the background where it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_RESPONSE = 0.05  # phase-correlation peak below this: no trustworthy single shift
MIN_SHIFT = 0.25  # pixels; below this moving the background only blurs it
QUIET = 25.0  # percentile of the grey difference that measures the scene's fit
MIN_GAIN = 1.0  # a believed shift must fit the scene at least as well as no shift
_GREY = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601 luma


@dataclass(frozen=True)
class Shift:
    """Where the frame's content lies relative to the background's, in background pixels."""

    dx: float = 0.0
    dy: float = 0.0

    @property
    def moved(self) -> bool:
        return max(abs(self.dx), abs(self.dy)) >= MIN_SHIFT


NO_SHIFT = Shift()


def grey(image_chw: np.ndarray) -> np.ndarray:
    """float32 [H, W] luma of a [3, H, W] image (any 0-255 or 0-1 scale)."""
    return np.tensordot(_GREY, image_chw.astype(np.float32, copy=False), axes=1)


class ShiftEstimator:
    """Measures frames against one background; keep it while the background stays the same."""

    def __init__(self, background_chw: np.ndarray, max_shift: float) -> None:
        self.reference = grey(background_chw)
        height, width = self.reference.shape
        self.window = (
            cv2.createHanningWindow((width, height), cv2.CV_32F)
            if height > 1 and width > 1
            else None
        )
        self.max_shift = max_shift

    def measure(self, image_chw: np.ndarray) -> Shift:
        if self.window is None or self.max_shift <= 0:
            return NO_SHIFT
        frame = grey(image_chw)
        # the normalised cross-power spectrum ignores scale: 0-1 and 0-255 images compare
        (dx, dy), response = cv2.phaseCorrelate(self.reference, frame, self.window)
        shift = Shift(dx, dy)
        if (
            not np.isfinite(response)
            or response < MIN_RESPONSE
            or max(abs(shift.dx), abs(shift.dy)) > self.max_shift
            or not shift.moved
        ):
            return NO_SHIFT
        return shift if self._explains(frame, dx, dy) else NO_SHIFT

    def _explains(self, frame: np.ndarray, dx: float, dy: float) -> bool:
        """Does moving the reference by (dx, dy) match the frame better where it is scene?"""
        height, width = frame.shape
        matrix = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
        moved = cv2.warpAffine(
            self.reference, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE
        )
        scale = np.float32(np.median(frame) / max(float(np.median(self.reference)), 1e-6))
        # the quietest quarter of the pixels: scene, not objects, whichever way it moved
        before = np.percentile(np.abs(frame - scale * self.reference), QUIET)
        after = np.percentile(np.abs(frame - scale * moved), QUIET)
        return bool(after < MIN_GAIN * before)


def shift_planes(planes_chw: np.ndarray, shift: Shift) -> np.ndarray:
    """[C, H, W] float32 planes translated by `shift` (bilinear, edges repeated)."""
    if not shift.moved:
        return planes_chw
    channels, height, width = planes_chw.shape
    matrix = np.array([[1, 0, shift.dx], [0, 1, shift.dy]], dtype=np.float32)
    moved = cv2.warpAffine(
        np.ascontiguousarray(planes_chw.transpose(1, 2, 0)),
        matrix,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return moved.reshape(height, width, channels).transpose(2, 0, 1)


def moved_onto(frame_chw: np.ndarray, planes_chw: np.ndarray, max_shift: float) -> np.ndarray:
    """Background `planes` ([C, H, W]) moved onto `frame`'s view by the shift measured
    between them (unchanged when none is believed)."""
    return shift_planes(planes_chw, ShiftEstimator(planes_chw, max_shift).measure(frame_chw))
