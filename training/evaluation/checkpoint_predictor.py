"""Runs a training checkpoint on numpy images, for `astseg eval` and the export parity check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from training.checkpoint import load_model
from training.evaluation.types import Prediction


class CheckpointPredictor:
    """A `Predictor` (see training.evaluation.types) backed by a PyTorch checkpoint."""

    def __init__(self, path: str | Path, device: str = "cpu") -> None:
        self.model, self.config, _ = load_model(path, device)
        self.device = torch.device(device)

    @property
    def image_size(self) -> tuple[int, int]:
        return self.config.model.image_height, self.config.model.image_width

    @torch.no_grad()
    def predict(self, images: np.ndarray) -> Prediction:
        """images: uint8 [N, H, W, 3] RGB at `image_size`."""
        batch = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        batch = batch.permute(0, 3, 1, 2).float() / 255.0
        out = self.model(batch)
        return Prediction(
            segmentation=out.segmentation().cpu().numpy(),
            reconstruction=out.reconstruction.clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy(),
        )
