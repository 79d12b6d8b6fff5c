"""A video file as a dataset of frames, with optional per-frame ground truth beside it.

    VIDEO.mp4                 any container/codec OpenCV can decode
    VIDEO_masks/000123.png    optional: instance ids of frame 123 (0-based), persistent ids
    VIDEO_background.png      optional: the empty scene

`astseg data synth --video` writes exactly this layout. Frames are decoded once, at the
requested stride/limit/size, and kept in memory for random access. A frame that cannot be
decoded (a damaged file) is skipped with a warning and named in the description; the
others keep their positions in the file, so masks still match by frame number.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from sdk.sources.quiet import quiet_native_stderr
from training.data.errors import DataError
from training.data.imageio import read_image, read_labels
from training.data.resize import resize_image, resize_labels_centre
from training.data.sample import Sample, SampleDataset, check_sample

MAX_DECODED_BYTES = 4 << 30
_MAX_BAD_READS = 30  # undecodable frames in a row before the file counts as ended

log = logging.getLogger("astseg")


def masks_folder(video: Path) -> Path:
    return video.with_name(f"{video.stem}_masks")


def background_file(video: Path) -> Path:
    return video.with_name(f"{video.stem}_background.png")


def _decode(
    path: Path, stride: int, limit: int | None, size: tuple[int, int] | None
) -> tuple[list[np.ndarray], list[int], list[int]]:
    """Frames and their positions in the file, and the positions that could not be decoded.

    A frame that fails to decode is skipped, not taken for the end of the file: the file
    ends after `_MAX_BAD_READS` failures in a row (as `sdk.sources.sources.VideoSource` reads it).
    """
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DataError(f"{path} cannot be opened as a video (unknown format or codec)")
    frames: list[np.ndarray] = []
    indices: list[int] = []
    skipped: list[int] = []
    bad: list[int] = []  # failed positions since the last decoded frame
    used = 0
    index = -1
    try:
        with quiet_native_stderr():  # FFmpeg's own line about the bad frame; we report it
            while (limit is None or len(frames) < limit) and len(bad) < _MAX_BAD_READS:
                ok, bgr = capture.read()
                index += 1
                if not ok:
                    bad.append(index)
                    continue
                skipped += [i for i in bad if i % stride == 0]
                bad = []
                if index % stride:
                    continue
                frame = np.ascontiguousarray(bgr[:, :, ::-1])
                if size is not None:
                    frame = resize_image(frame, size)
                used += frame.nbytes
                if used > MAX_DECODED_BYTES:
                    raise DataError(
                        f"{path} decodes to more than {MAX_DECODED_BYTES >> 30} GiB of frames; "
                        "add size=HxW, limit=N or stride=N to the video: data spec"
                    )
                frames.append(frame)
                indices.append(index)
    finally:
        capture.release()
    if not frames:
        raise DataError(f"{path} has no frames that OpenCV can decode")
    return frames, indices, skipped


def _skipped_note(skipped: list[int]) -> str:
    if len(skipped) == 1:
        return f"frame {skipped[0]} undecodable, skipped"
    return f"{len(skipped)} undecodable frames skipped, the first is frame {skipped[0]}"


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
        self.frames, self.indices, self.skipped = _decode(self.path, stride, limit, size)
        for position in self.skipped:
            log.warning("astseg: %s: frame %d could not be decoded; skipped", self.path, position)
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
        if self.skipped:
            self.description += f" ({_skipped_note(self.skipped)})"

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
