"""The training data of a run: a data spec or dataset, its held-out split, batch loaders.

The trainer only needs a `SampleDataset` (uint8 RGB images, optional instance masks); a
data spec string goes through the data package's own parser, and batches through its
torch wrapper, resized to the model's input size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader

from training.data.errors import DataError
from training.data.sample import Resized, SampleDataset, Subset
from training.data.spec import open_dataset
from training.data.torch_dataset import TorchSampleDataset
from training.trainer.batch_order import BatchOrder, BatchSampler

DataSource = str | SampleDataset


@dataclass
class RunData:
    train: SampleDataset
    validation: SampleDataset | None  # with masks; None when nothing can be scored
    description: str


def open_source(source: DataSource) -> SampleDataset:
    return source if isinstance(source, SampleDataset) else open_dataset(source)


def _has_masks(dataset: SampleDataset) -> bool:
    return len(dataset) > 0 and dataset[0].mask is not None


def prepare_data(
    source: DataSource,
    image_size: tuple[int, int],
    validation_images: int,
    validation_source: DataSource | None = None,
) -> RunData:
    """Opens the data; the validation split is `validation_source` when given, else the last
    min(`validation_images`, N/10) samples when the data has masks (a fixed tail, so the
    split is the same on every run and resume)."""
    dataset = open_source(source)
    if len(dataset) == 0:
        raise DataError(f"{dataset.description} holds no images; nothing to train on")
    description = f"{dataset.description}, {len(dataset)} images"
    validation: SampleDataset | None = None
    if validation_source is not None and validation_images > 0:
        held = open_source(validation_source)
        if not _has_masks(held):
            raise DataError(
                f"validation data {held.description} has no ground-truth masks to score against"
            )
        validation = Subset(held, range(min(validation_images, len(held))))
    elif validation_images > 0 and _has_masks(dataset):
        held_count = min(validation_images, len(dataset) // 10)
        if held_count > 0:
            cut = len(dataset) - held_count
            validation = Subset(dataset, range(cut, len(dataset)))
            dataset = Subset(dataset, range(cut))
    if validation is not None:
        description += f" ({len(dataset)} train, {len(validation)} held out)"
    return RunData(
        train=dataset,
        validation=None if validation is None else Resized(validation, image_size),
        description=description,
    )


def batch_loader(
    samples: SampleDataset,
    image_size: tuple[int, int],
    order: BatchOrder,
    first_batch: int,
    num_workers: int,
    pin_memory: bool,
    background_size: tuple[int, int] | None = None,
    with_index: bool = False,
) -> DataLoader:
    """Endless batches from `first_batch` on; workers prefetch while the model computes.

    `image` is at `image_size`; `background_size` adds `background_image` (each frame
    resized from its own pixels to the background model's size) and `with_index` the
    samples' indices (see `TorchSampleDataset`).

    The loader gets its own generator: creating its iterator would otherwise draw from the
    global torch RNG, and a resumed run would then draw different dropout masks.
    """
    generator = torch.Generator().manual_seed(order.seed * 1_000 + order.stream)
    return DataLoader(
        TorchSampleDataset(
            samples,
            size=image_size,
            with_masks=False,
            background_size=background_size,
            with_index=with_index,
        ),
        batch_sampler=BatchSampler(order, first_batch),
        num_workers=num_workers,
        pin_memory=pin_memory,
        generator=generator,
    )


def next_batch(batches: Iterator[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The next batch. A DataLoader worker re-raises a reader's error with the worker's
    traceback in its message; the user gets the reader's one sentence back instead."""
    try:
        return next(batches)
    except Exception as err:
        lines = str(err).rstrip().splitlines()
        if (
            len(lines) < 2
            or not lines[0].startswith("Caught ")
            or "DataLoader worker" not in lines[0]
        ):
            raise
        prefix = f"{type(err).__module__}.{type(err).__qualname__}: "
        sentence = lines[-1][len(prefix) :] if lines[-1].startswith(prefix) else lines[-1]
        try:
            clean = type(err)(sentence)
        except Exception:  # an error type that cannot be rebuilt from a message
            raise err from None
        raise clean from None


def to_model_input(
    batch: dict[str, torch.Tensor], device: torch.device, channels_last: bool, key: str = "image"
) -> torch.Tensor:
    """The batch's float [N, 3, H, W] images in [0, 1] (`key`: `image` or
    `background_image`), on `device`."""
    images = batch[key].to(device, non_blocking=True)
    return images.contiguous(memory_format=torch.channels_last) if channels_last else images
