"""The built-in synthetic scenes (training/data/synthetic.py) as numpy arrays for research.

Training scenes are indices 0..N-1 of the default `SceneConfig` (64×64, 1-4 objects of
seven shapes, fixed background, seed 0); held-out scenes are indices from 1 000 000 on of
the same generator, so they are never trained on.
"""

from __future__ import annotations

import numpy as np

from training.data.synthetic import SceneConfig, render_scene
from training.metrics import ari_fg, matched_iou

TRAIN_POOL = 20_000
EVAL_START = 1_000_000


def _render(config: SceneConfig, indices: range) -> tuple[np.ndarray, np.ndarray]:
    samples = [render_scene(config, i) for i in indices]
    images = np.stack([s.image for s in samples])
    masks = np.stack([s.mask for s in samples]).astype(np.int32)
    return images, masks


def scene_config(max_objects: int, size: int = 64, background: str = "fixed") -> SceneConfig:
    return SceneConfig(
        height=size, width=size, max_objects=max_objects, background=background
    ).validate()


def training_scenes(config: SceneConfig, count: int = TRAIN_POOL) -> np.ndarray:
    """uint8 [N, H, W, 3] images (the masks are never used for training)."""
    return _render(config, range(count))[0]


def eval_scenes(config: SceneConfig, count: int) -> tuple[np.ndarray, np.ndarray]:
    return _render(config, range(EVAL_START, EVAL_START + count))


def score(true: np.ndarray, pred: np.ndarray, num_layers: int) -> dict[str, float]:
    """Means over images of ARI-FG and both mIoU variants (training/metrics.py)."""
    aris = [ari_fg(t, p) for t, p in zip(true, pred, strict=True)]
    ious = np.array([matched_iou(t, p, num_layers) for t, p in zip(true, pred, strict=True)])
    return {
        "ari_fg": float(np.nanmean(aris)),
        "miou_fg": float(np.nanmean(ious[:, 0])),
        "miou": float(np.nanmean(ious[:, 1])),
    }
