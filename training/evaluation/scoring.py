"""Scores a `Predictor` on a dataset with the project's numpy metrics.

Images are resized to the predictor's size (masks and CDnet labels by nearest neighbour),
run in batches behind a progress bar, and every metric is aggregated into one `EvalReport`
with the grid picture of the first images.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from sdk.outputs.timeline import ClipTimeline
from training.data.errors import DataError
from training.data.sample import Sample, SampleDataset, resize_sample
from training.evaluation.grid import draw_grid
from training.evaluation.tracking_metrics import TrackingAccumulator, trackeval_missing
from training.evaluation.types import EvalReport, GridRow, PredictionLike, Predictor
from training.metrics import (
    ChangeCounts,
    IdentityCounter,
    ari_fg,
    change_counts,
    matched_iou,
    msc_fg,
    mse,
)


@dataclass
class _Means:
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        if not math.isnan(value):
            self.values.setdefault(name, []).append(value)

    def mean(self, name: str) -> float | None:
        values = self.values.get(name)
        return float(np.mean(values)) if values else None

    def count(self, name: str) -> int:
        return len(self.values.get(name, []))


def _num_layers(predictor: Predictor) -> int:
    """K + 1 when the predictor tells its slot count (pads mIoU matching like ClevrTex)."""
    slots = getattr(predictor, "num_slots", None)
    config = getattr(predictor, "config", None)
    if slots is None and config is not None:
        slots = getattr(getattr(config, "model", None), "num_slots", None)
    return int(slots) + 1 if isinstance(slots, int) else 0


def _check_prediction(prediction: PredictionLike, count: int, size: tuple[int, int]) -> None:
    seg = np.asarray(prediction.segmentation)
    if seg.shape != (count, *size):
        raise ValueError(f"predictor returned segmentation {seg.shape}; expected {(count, *size)}")
    recon = prediction.reconstruction
    if recon is not None and np.asarray(recon).shape != (count, *size, 3):
        raise ValueError(
            f"predictor returned reconstruction {np.asarray(recon).shape}; expected "
            f"{(count, *size, 3)}"
        )


class Evaluator:
    """Accumulates metrics batch by batch; `report()` gives the totals."""

    def __init__(self, num_layers: int = 0, grid_images: int = 6) -> None:
        self.num_layers = num_layers
        self.grid_images = grid_images
        self.means = _Means()
        self.images = 0
        self.images_with_masks = 0
        self.change: dict[str, ChangeCounts] = {}
        self.identity: dict[str, IdentityCounter] = {}
        self.tracking: dict[str, TrackingAccumulator] = {}
        self.tracks_given = False
        self.grid_rows: list[GridRow] = []
        self.timeline = ClipTimeline()
        self.sequences = False
        self.last_sequence: str | None = None  # the video the last batch ended in

    def add(self, samples: list[Sample], prediction: PredictionLike) -> None:
        segmentation = np.asarray(prediction.segmentation)
        recon = prediction.reconstruction
        tracks = getattr(prediction, "tracks", None)
        self.tracks_given |= tracks is not None
        for i, sample in enumerate(samples):
            self.images += 1
            seg = segmentation[i]
            shown = seg if tracks is None else np.asarray(tracks[i])
            self.timeline.add(int(v) for v in np.unique(shown) if v > 0)
            self.sequences |= sample.sequence is not None
            if recon is not None:
                self.means.add("mse", float(mse(sample.image, np.asarray(recon[i]))))
            if sample.mask is not None:
                self.images_with_masks += 1
                if (sample.mask > 0).any():
                    self.means.add("ari_fg", ari_fg(sample.mask, seg))
                miou_fg, miou = matched_iou(sample.mask, seg, self.num_layers)
                self.means.add("miou_fg", miou_fg)
                self.means.add("miou", miou)
                self.means.add("msc_fg", msc_fg(sample.mask, seg))
                if sample.sequence is not None:
                    ids = seg if tracks is None else np.asarray(tracks[i])
                    self.identity.setdefault(sample.sequence, IdentityCounter()).update(
                        sample.mask, ids
                    )
                    self.tracking.setdefault(sample.sequence, TrackingAccumulator()).update(
                        sample.mask, ids
                    )
            if sample.motion_labels is not None:
                counts = change_counts(seg > 0, sample.motion_labels)
                key = sample.sequence or "images"
                self.change[key] = self.change.get(key, ChangeCounts()) + counts
            if len(self.grid_rows) < self.grid_images:
                truth = sample.mask if sample.mask is not None else sample.motion_labels
                rec = None if recon is None else np.asarray(recon[i])
                self.grid_rows.append((sample.image, rec, seg, truth))

    def report(self) -> EvalReport:
        m = self.means
        metrics: dict[str, Any] = {
            "images": self.images,
            "images_with_masks": self.images_with_masks,
            "images_with_objects": m.count("ari_fg"),
            "ari_fg": m.mean("ari_fg"),
            "miou_fg": m.mean("miou_fg"),
            "miou": m.mean("miou"),
            "msc_fg": m.mean("msc_fg"),
            "mse": m.mean("mse"),
        }
        if self.change:
            per = {name: c.scores() for name, c in self.change.items()}
            metrics["cdnet"] = {"mean": _mean_of(per), "sequences": per}
        if self.identity:
            per_id = {name: asdict(c.result()) for name, c in self.identity.items()}
            metrics["identity"] = {
                "ids_from": "tracks" if self.tracks_given else "slots",
                "mean": _mean_of(per_id),
                "sequences": per_id,
            }
        if self.tracking:
            metrics["tracking"] = self._tracking_section()
        grid = draw_grid(self.grid_rows) if self.grid_rows else None
        return EvalReport(metrics, grid, self.timeline, self.sequences)

    def _tracking_section(self) -> dict[str, Any]:
        """HOTA, IDF1, MOTA, ID switches, objects per frame (tracking_metrics, the classical
        benchmark's scoring) per video and their mean; without TrackEval, how to get it."""
        missing = trackeval_missing()
        if missing is not None:
            return {"skipped": missing}
        per = {name: acc.result() for name, acc in self.tracking.items()}
        return {
            "ids_from": "tracks" if self.tracks_given else "slots",
            "mean": _mean_of(per),
            "sequences": per,
        }


def _mean_of(per: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    keys = next(iter(per.values())).keys()
    out: dict[str, float | None] = {}
    for key in keys:
        values = [float(v[key]) for v in per.values() if v[key] is not None]
        values = [v for v in values if math.isfinite(v)]
        out[key] = float(np.mean(values)) if values else None
    return out


def evaluate(
    predictor: Predictor,
    dataset: SampleDataset,
    limit: int | None = None,
    batch_size: int = 16,
    grid_images: int = 6,
    progress: bool = True,
) -> EvalReport:
    """Runs `predictor` over the first `limit` samples of `dataset` and scores them."""
    if batch_size < 1:
        raise DataError(f"batch size must be at least 1, got {batch_size}")
    count = len(dataset) if limit is None else min(limit, len(dataset))
    if count == 0:
        raise DataError(f"{dataset.description} has no samples to evaluate")
    size = tuple(int(s) for s in predictor.image_size)
    if len(size) != 2:
        raise ValueError(f"predictor image_size must be (height, width), got {size}")
    evaluator = Evaluator(_num_layers(predictor), grid_images)
    reset = getattr(predictor, "reset", None)
    with tqdm(total=count, desc="evaluating", unit="img", disable=not progress) as bar:
        for samples in _batches(dataset, count, batch_size, (size[0], size[1])):
            if reset is not None and samples[0].sequence != evaluator.last_sequence:
                reset()  # a tracking predictor starts each video with no tracks
            evaluator.last_sequence = samples[-1].sequence
            images = np.stack([s.image for s in samples])
            prediction = predictor.predict(images)
            _check_prediction(prediction, len(samples), (size[0], size[1]))
            evaluator.add(samples, prediction)
            bar.update(len(samples))
    return evaluator.report()


def _batches(
    dataset: SampleDataset, count: int, batch_size: int, size: tuple[int, int]
) -> Iterator[list[Sample]]:
    """The first `count` samples, resized, in batches of at most `batch_size` that never
    span two videos (frames of one video are one stream to a tracking predictor)."""
    batch: list[Sample] = []
    for i in range(count):
        sample = resize_sample(dataset[i], size)
        if batch and (len(batch) == batch_size or sample.sequence != batch[-1].sequence):
            yield batch
            batch = []
        batch.append(sample)
    if batch:
        yield batch
