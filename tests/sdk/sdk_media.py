"""Generated frames and videos for the runtime tests."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np


def scene(
    height: int,
    width: int,
    discs: list[tuple[float, float, float, tuple[int, int, int]]],
    background: int = 40,
) -> np.ndarray:
    """A BGR frame with filled discs (cx, cy, radius, colour) on a dark background."""
    frame = np.full((height, width, 3), background, np.uint8)
    for cx, cy, radius, colour in discs:
        cv2.circle(frame, (round(cx), round(cy)), round(radius), colour, -1)
    return frame


def moving_discs(frames: int, height: int = 120, width: int = 160) -> list[np.ndarray]:
    """Two discs crossing horizontally at different heights: red left->right, green right->left."""
    out = []
    for i in range(frames):
        t = i / max(1, frames - 1)
        red = (20 + t * (width - 40), height * 0.33, 12, (0, 0, 255))
        green = (width - 20 - t * (width - 40), height * 0.66, 10, (0, 255, 0))
        out.append(scene(height, width, [red, green]))
    return out


def write_video(path: Path, frames: list[np.ndarray], fps: float = 15.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def count_frames(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    n = 0
    while capture.read()[0]:
        n += 1
    capture.release()
    return n


class FakeCamera:
    """A capture that delivers `frames` frames of one size, then fails like a pulled cable."""

    def __init__(self, frames: int, size: tuple[int, int], delay: float = 0.002) -> None:
        self.left, self.size, self.delay = frames, size, delay

    def isOpened(self) -> bool:  # noqa: N802
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(self.delay)
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, np.zeros((*self.size, 3), np.uint8)

    def release(self) -> None:
        self.left = 0


class ClosedCamera(FakeCamera):
    def isOpened(self) -> bool:  # noqa: N802
        return False
