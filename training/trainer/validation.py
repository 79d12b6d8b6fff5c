"""Scores the model being trained on the held-out split with the project's evaluator, so
validation numbers mean exactly what `astseg eval` reports."""

from __future__ import annotations

import numpy as np
import torch

from training.data.sample import SampleDataset
from training.evaluation.scoring import evaluate
from training.evaluation.types import Prediction
from training.model import ASTSeg

VALIDATION_METRIC = "ari_fg"  # the best checkpoint is the one with the highest ARI-FG
REPORTED = ("ari_fg", "miou_fg", "miou", "msc_fg", "mse")
BATCH = 32


class LivePredictor:
    """A `training.evaluation.types.Predictor` over an in-memory model (eval mode, no gradients)."""

    def __init__(self, model: ASTSeg, device: torch.device) -> None:
        self.model = model
        self.device = device
        self.num_slots = model.config.num_slots

    @property
    def image_size(self) -> tuple[int, int]:
        return self.model.config.image_height, self.model.config.image_width

    @torch.no_grad()
    def predict(self, images: np.ndarray) -> Prediction:
        batch = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        batch = batch.permute(0, 3, 1, 2).float().div_(255.0)
        out = self.model(batch)
        return Prediction(
            segmentation=out.segmentation().cpu().numpy(),
            reconstruction=out.reconstruction.float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy(),
        )


def validate(model: ASTSeg, dataset: SampleDataset, device: torch.device) -> dict[str, float]:
    """ARI-FG, mIoU (foreground-only and with background), MSC-FG and MSE on `dataset`;
    a metric the data cannot define (e.g. ARI-FG without objects) is NaN."""
    was_training = model.training
    model.eval()
    try:
        report = evaluate(
            LivePredictor(model, device), dataset, batch_size=BATCH, grid_images=0, progress=False
        )
    finally:
        model.train(was_training)
    metrics = report.metrics
    return {
        name: float("nan") if metrics.get(name) is None else float(metrics[name])
        for name in REPORTED
    }
