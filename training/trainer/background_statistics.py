"""What the fixed-camera background model measures on the footage itself, before and after
phase 1 (`model.background_prior`, `model.background_noise: measured`; docs/cpu-recipe.md §8).

- The prior: the per-pixel median of frames spread over the footage is the sharpest image
  of a fixed camera's empty scene that exists without labels (objects move on, the scene
  stays). A shaking camera blurs it, so each frame is first moved onto the median by its
  measured shift (the runtime's own estimator) and the median taken again.
- The noise map: after phase 1, the per-pixel median of the l1 difference between each
  sampled frame and the model's background for it, compared exactly as the runtime
  compares them (shift, then light matching). It is high on leaves, water, fine texture,
  shaking edges and wherever the model is wrong, and near zero on a clean road.
Both are plain functions of the sampled frames, so every DDP rank computes the same.
"""

from __future__ import annotations

import numpy as np
import torch

from sdk.fixed_camera.camera_shift import ShiftEstimator, moved_onto, shift_planes
from sdk.fixed_camera.illumination import match_illumination
from training.model.background import BackgroundModel

SAMPLE_FRAMES = 200  # frames spread over the footage; a median needs no more


def _uint8_frames(images: torch.Tensor) -> np.ndarray:
    """[N, 3, H, W] in [0, 1] -> uint8 numpy of the same shape."""
    return images.clamp(0, 1).mul(255).round().to(torch.uint8).cpu().numpy()


def footage_median(images: torch.Tensor, max_shift: float) -> torch.Tensor:
    """[3, H, W] in [0, 1]: the median frame, after moving each frame onto a first median."""
    frames = _uint8_frames(images)
    median = np.median(frames, axis=0).astype(np.float32)
    if max_shift > 0 and len(frames) > 1:
        estimator = ShiftEstimator(median, max_shift)
        aligned = []
        for frame in frames:
            shift = estimator.measure(frame)
            # the frame moved by +shift against the scene: move it back by -shift
            back = type(shift)(-shift.dx, -shift.dy)
            aligned.append(shift_planes(frame.astype(np.float32), back))
        median = np.median(np.stack(aligned), axis=0)
    return torch.from_numpy(median / np.float32(255.0))


@torch.no_grad()
def residuals(
    model: BackgroundModel, images: torch.Tensor, max_shift: float, relight: tuple[bool, ...]
) -> list[np.ndarray]:
    """float32 [N, H, W] per entry of `relight`: each frame's l1 difference (mean over RGB,
    0-255 scale) from the model's background for it, compared as the runtime compares them
    (shift, then light matching where the entry says so); the model runs once for all."""
    frames = _uint8_frames(images)
    differences: list[list[np.ndarray]] = [[] for _ in relight]
    for start in range(0, len(images), 16):
        batch = images[start : start + 16]
        backgrounds = model(batch)[0].float().clamp(0, 1).mul(255).cpu().numpy()
        for frame, background in zip(frames[start : start + 16], backgrounds, strict=True):
            if max_shift > 0:
                background = moved_onto(frame, background, max_shift)
            pixels = frame.astype(np.float32)
            for out, matched in zip(differences, relight, strict=True):
                compared = match_illumination(frame, background) if matched else background
                out.append(np.abs(pixels - compared).mean(axis=0))
    return [np.stack(d) for d in differences]


def noise_map(differences: np.ndarray) -> torch.Tensor:
    """[H, W] noise map, on the noise output's 0-1 scale: the per-pixel median residual."""
    return torch.from_numpy(np.median(differences, axis=0) / np.float32(255.0))


def residual_noise(
    model: BackgroundModel, images: torch.Tensor, max_shift: float, relight: bool
) -> torch.Tensor:
    """[H, W] noise map of `images` ([N, 3, H, W] in [0, 1]) against the model's backgrounds."""
    return noise_map(residuals(model, images, max_shift, (relight,))[0])


def align_backgrounds(
    images: torch.Tensor, backgrounds: torch.Tensor, max_shift: float
) -> torch.Tensor:
    """`backgrounds` ([N, 3, H, W] in [0, 1]) each moved by its frame's measured shift, as
    the runtime moves them before the rule (sdk.fixed_camera.camera_shift)."""
    frames = _uint8_frames(images)
    planes = backgrounds.detach().float().cpu().numpy()
    moved = [moved_onto(f, b, max_shift) for f, b in zip(frames, planes, strict=True)]
    return torch.from_numpy(np.stack(moved)).to(backgrounds.device, backgrounds.dtype)
