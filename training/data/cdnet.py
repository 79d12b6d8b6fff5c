"""CDnet 2014 (changedetection.net) sequence folders:

    SEQ/input/in000001.jpg ...      frames, numbered from 1
    SEQ/groundtruth/gt000001.png    0 static, 50 shadow, 85 outside ROI, 170 unknown, 255 moving
    SEQ/temporalROI.txt             "first last": the frames that are scored
    SEQ/ROI.bmp                     spatial ROI (non-zero inside)

Samples carry the labels as `motion_labels` on scored frames only (None elsewhere), with
pixels outside ROI.bmp set to 85 so that scoring ignores them.
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from training.data.errors import DataError
from training.data.imageio import read_image
from training.data.sample import Concatenated, Sample, SampleDataset, check_sample

OUTSIDE_ROI = 85
_FRAME = re.compile(r"^in(\d{6})\.(jpg|jpeg|png)$", re.IGNORECASE)


def _temporal_roi(path: Path) -> tuple[int, int]:
    try:
        numbers = [int(x) for x in path.read_text().split()]
    except FileNotFoundError:
        raise DataError(f"{path} is missing; a CDnet sequence needs its temporalROI.txt") from None
    except (OSError, ValueError):
        numbers = []
    if len(numbers) != 2 or numbers[0] > numbers[1]:
        raise DataError(f"{path} must hold two frame numbers 'first last', first <= last")
    return numbers[0], numbers[1]


def is_cdnet_sequence(path: Path) -> bool:
    return (path / "input").is_dir() and (path / "temporalROI.txt").is_file()


class CdnetSequence(SampleDataset):
    """One CDnet sequence; `scored_only` keeps just the frames inside temporalROI.txt."""

    def __init__(self, root: str | Path, scored_only: bool = False) -> None:
        self.root = Path(root)
        if not (self.root / "input").is_dir():
            raise DataError(f"{self.root} is not a CDnet sequence (no input/ folder)")
        self.first, self.last = _temporal_roi(self.root / "temporalROI.txt")
        frames: dict[int, Path] = {}
        for path in sorted((self.root / "input").iterdir()):
            match = _FRAME.match(path.name)
            if match:
                frames[int(match.group(1))] = path
        if not frames:
            raise DataError(f"{self.root / 'input'} has no frames named in000001.jpg ...")
        numbers = sorted(frames)
        if scored_only:
            numbers = [n for n in numbers if self.first <= n <= self.last]
        self.numbers = numbers
        self.frames = frames
        self.roi: np.ndarray | None = None
        roi_path = self.root / "ROI.bmp"
        if roi_path.is_file():
            roi = cv2.imread(str(roi_path), cv2.IMREAD_GRAYSCALE)
            if roi is None:
                raise DataError(f"{roi_path} is not a readable image")
            self.roi = roi > 0
        self.description = f"CDnet sequence {self.root.name}"

    def __len__(self) -> int:
        return len(self.numbers)

    def scored(self, number: int) -> bool:
        return self.first <= number <= self.last

    def _labels(self, number: int, shape: tuple[int, ...]) -> np.ndarray:
        path = self.root / "groundtruth" / f"gt{number:06d}.png"
        labels = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if labels is None:
            raise DataError(f"{path} is missing or unreadable; frame {number} is in temporalROI")
        if labels.shape != shape[:2]:
            raise DataError(f"{path} is {labels.shape[1]}x{labels.shape[0]}, its frame is not")
        if self.roi is not None:
            if self.roi.shape != labels.shape:
                raise DataError(f"{self.root / 'ROI.bmp'} does not match the frame size")
            labels = np.where(self.roi, labels, OUTSIDE_ROI).astype(np.uint8)
        return labels

    def __getitem__(self, index: int) -> Sample:
        number = self.numbers[self._check_index(index)]
        image = read_image(self.frames[number])
        labels = self._labels(number, image.shape) if self.scored(number) else None
        sample = Sample(
            image=image, name=f"{self.root.name}/{number:06d}", sequence=str(self.root),
            frame=number, motion_labels=labels,
        )  # fmt: skip
        return check_sample(sample, str(self.frames[number]))


def open_cdnet(root: str | Path, scored_only: bool = False) -> SampleDataset:
    """A sequence folder, or a category / dataset folder holding sequences (two levels)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"CDnet folder {root} does not exist")
    if is_cdnet_sequence(root):
        return CdnetSequence(root, scored_only)
    candidates = sorted(p for p in root.iterdir() if p.is_dir())
    candidates += sorted(q for p in candidates for q in p.iterdir() if q.is_dir())
    sequences = [CdnetSequence(p, scored_only) for p in sorted(candidates) if is_cdnet_sequence(p)]
    if not sequences:
        raise DataError(
            f"{root} holds no CDnet sequence (a folder with input/ and temporalROI.txt)"
        )
    return Concatenated(sequences, f"CDnet {root}")
