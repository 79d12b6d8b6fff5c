"""A video file as a dataset of frames, with optional per-frame ground truth beside it.

    VIDEO.mp4                 any container/codec OpenCV can decode
    VIDEO_masks/000123.png    optional: instance ids of frame 123 (0-based), persistent ids
    VIDEO_background.png      optional: the empty scene

`astseg data synth --video` writes exactly this layout. Frames are decoded once, at the
requested stride/limit/size, and kept in memory for random access.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from training.data.errors import DataError
from training.data.imageio import read_image, read_labels
from training.data.resize import resize_image, resize_labels_centre
from training.data.sample import Sample, SampleDataset, check_sample

MAX_DECODED_BYTES = 4 << 30


def masks_folder(video: Path) -> Path:
    return video.with_name(f"{video.stem}_masks")


def background_file(video: Path) -> Path:
    return video.with_name(f"{video.stem}_background.png")


def _decode(
    path: Path, stride: int, limit: int | None, size: tuple[int, int] | None
) -> tuple[list[np.ndarray], list[int]]:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DataError(f"{path} cannot be opened as a video (unknown format or codec)")
    frames: list[np.ndarray] = []
    indices: list[int] = []
    used = 0
    index = -1
    try:
        while limit is None or len(frames) < limit:
            ok, bgr = capture.read()
            if not ok:
                break
            index += 1
            if index % stride:
                continue
            frame = np.ascontiguousarray(bgr[:, :, ::-1])
            if size is not None:
                frame = resize_image(frame, size)
            used += frame.nbytes
            if used > MAX_DECODED_BYTES:
                raise DataError(
                    f"{path} decodes to more than {MAX_DECODED_BYTES >> 30} GiB of frames; add "
                    "size=HxW, limit=N or stride=N to the video: data spec"
                )
            frames.append(frame)
            indices.append(index)
    finally:
        capture.release()
    if not frames:
        raise DataError(f"{path} has no frames that OpenCV can decode")
    return frames, indices


class VideoDataset(SampleDataset):
    """Frames `0, stride, 2*stride, ...` of a video (at most `limit`), optionally resized."""

    def __init__(
        self,
        path: str | Path,
        stride: int = 1,
        limit: int | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DataError(f"video {self.path} does not exist")
        if stride < 1:
            raise DataError(f"video stride must be at least 1, got {stride}")
        if limit is not None and limit < 1:
            raise DataError(f"video limit must be at least 1, got {limit}")
        self.size = size
        self.frames, self.indices = _decode(self.path, stride, limit, size)
        masks = masks_folder(self.path)
        self.mask_files: list[Path] | None = None
        if masks.is_dir():
            self.mask_files = [masks / f"{i:06d}.png" for i in self.indices]
            missing = next((p for p in self.mask_files if not p.is_file()), None)
            if missing is not None:
                raise DataError(f"{missing} is missing: {masks} must hold one mask per frame")
        self.background: np.ndarray | None = None
        if background_file(self.path).is_file():
            background = read_image(background_file(self.path))
            self.background = resize_image(background, self.frames[0].shape[:2])
        self.description = f"video {self.path}"

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> Sample:
        i = self._check_index(index)
        frame = self.frames[i]
        mask = None
        where = str(self.path)
        if self.mask_files is not None:
            where = str(self.mask_files[i])
            mask = read_labels(self.mask_files[i])
            if self.size is not None:
                mask = resize_labels_centre(mask, self.size)
        sample = Sample(
            image=frame, mask=mask, background=self.background,
            name=f"{self.indices[i]:06d}", sequence=self.path.stem, frame=self.indices[i],
        )  # fmt: skip
        return check_sample(sample, where)
