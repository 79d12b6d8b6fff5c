"""The sample every reader yields, the dataset interface, and subsets / held-out splits."""

from __future__ import annotations

import abc
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from training.data.errors import DataError
from training.data.resize import resize_image, resize_labels_centre


@dataclass
class Sample:
    """One image with whatever ground truth its source has.

    `mask` holds instance ids (0 = background); in a video source an object keeps its id in
    every frame. `motion_labels` holds CDnet-coded change labels (0 background, 50 shadow,
    85 outside the ROI, 170 unknown, 255 foreground) on the frames that are scored.
    `sequence` names the video a frame belongs to (None for independent images).
    """

    image: np.ndarray  # uint8 [H, W, 3] RGB
    mask: np.ndarray | None = None  # int32 [H, W]
    background: np.ndarray | None = None  # uint8 [H, W, 3] RGB
    name: str = ""
    sequence: str | None = None
    frame: int | None = None
    motion_labels: np.ndarray | None = None  # uint8 [H, W], CDnet codes

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[0]), int(self.image.shape[1])


class SampleDataset(abc.ABC):
    """Indexable collection of `Sample`s: `len(ds)`, `ds[i]`, iteration in index order."""

    description = "dataset"

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def __getitem__(self, index: int) -> Sample: ...

    def __iter__(self) -> Iterator[Sample]:
        for i in range(len(self)):
            yield self[i]

    def _check_index(self, index: int) -> int:
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"index {index} out of range for {self.description} of {n} samples")
        return index


class Subset(SampleDataset):
    """The samples of `base` at `indices`, in that order."""

    def __init__(self, base: SampleDataset, indices: Sequence[int]) -> None:
        self.base = base
        self.indices = list(indices)
        self.description = base.description

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Sample:
        return self.base[self.indices[self._check_index(index)]]


class Resized(SampleDataset):
    """Resizes every sample to (H, W): images by area/bilinear, masks by nearest neighbour."""

    def __init__(self, base: SampleDataset, size: tuple[int, int]) -> None:
        self.base = base
        self.target = size
        self.description = base.description

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> Sample:
        return resize_sample(self.base[index], self.target)


def resize_sample(sample: Sample, size: tuple[int, int]) -> Sample:
    """A copy of `sample` at (H, W); ids and CDnet codes are resized without blending."""
    if sample.size == tuple(size):
        return sample
    return replace(
        sample,
        image=resize_image(sample.image, size),
        mask=None if sample.mask is None else resize_labels_centre(sample.mask, size),
        background=None if sample.background is None else resize_image(sample.background, size),
        motion_labels=None
        if sample.motion_labels is None
        else resize_labels_centre(sample.motion_labels, size),
    )


def holdout_split(
    dataset: SampleDataset, fraction: float = 0.1
) -> tuple[SampleDataset, SampleDataset]:
    """(train, held-out): the held-out part is the last ceil(fraction * N) samples.

    A contiguous tail, not a random draw, so frames of one video never straddle the split
    through their near-duplicate neighbours, and the split is the same on every run.
    """
    if not 0 < fraction < 1:
        raise DataError(f"held-out fraction must lie strictly between 0 and 1, got {fraction}")
    n = len(dataset)
    held = min(max(1, math.ceil(fraction * n)), n - 1) if n > 1 else 0
    if held == 0:
        raise DataError(f"{dataset.description} has {n} sample(s); too few to hold any out")
    return Subset(dataset, range(n - held)), Subset(dataset, range(n - held, n))


def check_sample(sample: Sample, where: str) -> Sample:
    """Validates shapes and types, naming `where` (a file or index) on failure."""
    image = sample.image
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise DataError(f"{where}: image must be uint8 [H, W, 3], got {image.dtype} {image.shape}")
    for name in ("mask", "background", "motion_labels"):
        value = getattr(sample, name)
        if value is not None and value.shape[:2] != image.shape[:2]:
            raise DataError(
                f"{where}: {name} is {value.shape[1]}x{value.shape[0]} but the image is "
                f"{image.shape[1]}x{image.shape[0]}"
            )
    return sample


class Concatenated(SampleDataset):
    """Several datasets one after the other (e.g. every CDnet sequence of a category)."""

    def __init__(self, parts: Sequence[SampleDataset], description: str) -> None:
        if not parts:
            raise DataError(f"{description} is empty")
        self.parts = list(parts)
        self.offsets = np.cumsum([0] + [len(p) for p in self.parts])
        self.description = description

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, index: int) -> Sample:
        index = self._check_index(index)
        part = int(np.searchsorted(self.offsets, index, side="right")) - 1
        return self.parts[part][index - int(self.offsets[part])]
