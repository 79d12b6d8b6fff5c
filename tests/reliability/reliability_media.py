"""Media for the reliability matrix: clips, a clip with one undecodable frame, odd images."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

HEIGHT, WIDTH = 96, 128


def disc_frames(count: int, height: int = HEIGHT, width: int = WIDTH) -> list[np.ndarray]:
    """BGR frames with a red disc moving right and a green one moving left."""
    frames = []
    for i in range(count):
        t = i / max(1, count - 1)
        frame = np.full((height, width, 3), 40, np.uint8)
        cv2.circle(frame, (round(16 + t * (width - 32)), height // 3), 10, (0, 0, 255), -1)
        cv2.circle(
            frame, (round(width - 16 - t * (width - 32)), 2 * height // 3), 8, (0, 255, 0), -1
        )
        frames.append(frame)
    return frames


def disc_image_folder(folder: Path, count: int = 3) -> Path:
    """`folder` with f0.png ... as `disc_frames(count)`, for rows that add a bad file to it."""
    folder.mkdir(parents=True)
    for i, frame in enumerate(disc_frames(count)):
        cv2.imwrite(str(folder / f"f{i}.png"), frame)
    return folder


def write_mp4(path: Path, frames: list[np.ndarray], fps: float = 15.0) -> Path:
    """MPEG-4 Part 2 in MP4: OpenCV writes the index (moov) last, as phones and NVRs do."""
    return _write(path, frames, "mp4v", fps)


def _write(path: Path, frames: list[np.ndarray], fourcc: str, fps: float) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} here"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def write_mjpeg(path: Path, frames: list[np.ndarray], fps: float = 15.0) -> Path:
    """Motion-JPEG in AVI: each frame its own JPEG, the frame count in the header."""
    return _write(path, frames, "MJPG", fps)


def corrupt_frame_video(path: Path, count: int, bad: int) -> Path:
    """A Motion-JPEG AVI whose frame `bad` has its JPEG data zeroed (container intact).

    Every MJPEG frame is an independent JPEG, so exactly that frame fails to decode and
    the frames after it decode again, as after a bit flip on a disk or a network.
    """
    write_mjpeg(path, disc_frames(count))
    data = bytearray(path.read_bytes())
    starts = [m.start() for m in re.finditer(rb"\xff\xd8\xff", bytes(data))]
    assert len(starts) == count, f"expected {count} JPEG frames, found {len(starts)}"
    end = starts[bad + 1] - 8  # the next frame's chunk header ('00dc' + size) stays intact
    data[starts[bad] : end] = bytes(end - starts[bad])
    path.write_bytes(bytes(data))
    return path


def disc_image(height: int, width: int, centre: tuple[int, int], radius: int) -> np.ndarray:
    """A BGR uint8 frame with one bright disc on a dark background."""
    frame = np.full((height, width, 3), 40, np.uint8)
    cv2.circle(frame, centre, radius, (0, 200, 255), -1)
    return frame


def count_frames(path: Path) -> int:
    """Frames OpenCV can decode from `path` (0 when it cannot open it)."""
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    return frames
