"""The one torch-facing file of `training.data`: wraps any `SampleDataset` for a DataLoader."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from training.data.errors import DataError
from training.data.resize import resize_image
from training.data.sample import SampleDataset, resize_sample


class TorchSampleDataset(Dataset[dict[str, torch.Tensor]]):
    """Items are dicts: `image` float32 [3, H, W] in [0, 1], and when present `mask` int64
    [H, W] (0 = background) and `background` float32 [3, H, W].

    With `background_size`, also `background_image`: the same frame resized from its own
    pixels to the background model's (H, W), float32 in [0, 1] (fixed-camera mode: the
    background model has its own input size). With `with_index`, `index`: the item's
    position in `samples` (int64), which keys per-sample caches.

    `with_masks=None` decides from the first sample; a later sample that breaks the choice
    raises, because a DataLoader cannot collate a batch where only some items have masks.
    """

    def __init__(
        self,
        samples: SampleDataset,
        size: tuple[int, int] | None = None,
        with_masks: bool | None = None,
        with_backgrounds: bool = False,
        background_size: tuple[int, int] | None = None,
        with_index: bool = False,
    ) -> None:
        if len(samples) == 0:
            raise DataError(f"{samples.description} is empty")
        self.samples = samples
        self.size = size
        self.with_masks = samples[0].mask is not None if with_masks is None else with_masks
        self.with_backgrounds = with_backgrounds
        self.background_size = background_size
        self.with_index = with_index

    def __len__(self) -> int:
        return len(self.samples)

    @staticmethod
    def _chw(image: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float().div_(255.0)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        sample = self.samples[index]
        item: dict[str, torch.Tensor] = {}
        if self.background_size is not None:
            item["background_image"] = self._chw(resize_image(sample.image, self.background_size))
        if self.with_index:
            item["index"] = torch.tensor(index, dtype=torch.int64)
        if self.size is not None:
            sample = resize_sample(sample, self.size)
        item["image"] = self._chw(sample.image)
        where = f"{self.samples.description} item {index} ({sample.name})"
        if self.with_masks:
            if sample.mask is None:
                raise DataError(f"{where} has no mask, unlike the first item")
            item["mask"] = torch.from_numpy(sample.mask.astype(np.int64))
        if self.with_backgrounds:
            if sample.background is None:
                raise DataError(f"{where} has no background image")
            item["background"] = self._chw(sample.background)
        return item
