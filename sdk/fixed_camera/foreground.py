"""The fixed-camera foreground: where a frame differs from the learned background by more
than the background model expects (DESIGN §3, the background paper's rule).

With l1 the mean over RGB of |frame − background| on the 0–255 scale and ê the
predicted noise on the same scale, a pixel is foreground when

    3 · max(0, l1 − α₂ · ê) > α₁ · mean_RGB(background)

then a `close`×`close` closing fills pinholes and a `open`×`open` opening removes
specks. The paper's constants (α₁ = 96/255, α₂ = 7, 5×5 closing, 7×7 opening) assume a
noise head trained for tens of thousands of steps; with the few hundred steps a CPU
budget gives, ê stays high everywhere and α₂ = 7 erases most objects (foreground F
0.23 on our noisy synthetic camera). The defaults (`ForegroundRule`, in the manifest's
types) were picked once, on our own synthetic cameras (docs/runtime.md, "Fixed-camera
mode"), and a bundle's manifest may set its own. The rule runs at the background graph's
own resolution (about 320 px on the long side, never the slot model's 64×64): the graph's
input is already that size,
and the kernels are meant in its pixels. The mask is then brought to the frame's
size with one nearest-neighbour resize, which keeps every frame pixel's value equal
to the background-resolution pixel it falls in (the fused labels rely on that).

Real cameras (issue 20, docs/runtime.md "Real footage") add three steps, each a key of the
rule: `shake` (the background and its noise are moved by the view's measured shift, up to
that many pixels, sdk.fixed_camera.camera_shift), `hysteresis` (a region is kept only where
some pixel exceeds that many thresholds, sdk.fixed_camera.evidence) and `adapt` (the noise
map follows the scene at run time, sdk.fixed_camera.residual_noise). Bundles written before
them omit the keys and get `ForegroundRule`'s defaults.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from sdk.bundle.manifest import ForegroundRule
from sdk.fixed_camera.camera_shift import NO_SHIFT, ShiftEstimator, shift_planes
from sdk.fixed_camera.evidence import keep_evident
from sdk.fixed_camera.illumination import match_illumination
from sdk.fixed_camera.residual_noise import ResidualNoise


def _kernel(side: int) -> np.ndarray | None:
    return cv2.getStructuringElement(cv2.MORPH_RECT, (side, side)) if side > 1 else None


def _fingerprint(background: np.ndarray) -> np.ndarray:
    """A sparse grid of the graph's background: it is reused between refreshes and arrives
    as a fresh view each frame, so identity is told by value (a few hundred of them)."""
    return background[:, ::16, ::16].copy()


class ForegroundDetector:
    """The rule with its memory: one per stream (a shift reference per background, the
    running noise map). Frames must come in stream order."""

    def __init__(self, rule: ForegroundRule) -> None:
        self.rule = rule
        self._background: np.ndarray | None = None
        self._estimator: ShiftEstimator | None = None
        self.noise: ResidualNoise | None = None

    def __call__(self, image: np.ndarray, background: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """uint8 {0, 1} [Hb, Wb] from the graph's input and outputs for one frame.

        image: uint8 [3, Hb, Wb] (what the background graph was given); background: float
        [3, Hb, Wb] in [0, 1]; noise: float [1, Hb, Wb] or [Hb, Wb] in [0, 1].
        """
        rule = self.rule
        fingerprint = _fingerprint(background)
        if self._background is None or not np.array_equal(fingerprint, self._background):
            self._background = fingerprint
            self._estimator = ShiftEstimator(background, rule.shake) if rule.shake > 0 else None
        shift = self._estimator.measure(image) if self._estimator is not None else NO_SHIFT
        size = image.shape[1:]
        if rule.adapt and self.noise is not None and self.noise.map.shape == size:
            levels = self.noise.map  # the running map; the graph's only seeds it
        else:
            levels = noise.reshape(size).astype(np.float32) * np.float32(rule.noise_scale)
            if rule.adapt:
                self.noise = ResidualNoise(levels)
        b = background.astype(np.float32, copy=False) * np.float32(255.0)
        if shift.moved:
            moved = shift_planes(np.concatenate([b, levels[None]]), shift)
            b, levels = moved[:3], moved[3]
        if rule.relight:
            b = match_illumination(image, b)
        diff = np.abs(image.astype(np.float32) - b).sum(axis=0)  # 3 · l1
        # 3·max(0, l1 − α₂ê) > α₁·mean(b)  ⇔  Σ_c|x − b| > 3α₂ê + (α₁/3)·Σ_c b
        threshold = np.float32(3.0 * rule.alpha2) * levels
        threshold += np.float32(rule.alpha1 / 3.0) * b.sum(axis=0)
        mask = (diff > threshold).view(np.uint8)
        if rule.hysteresis > 1:
            mask = keep_evident(mask, diff > np.float32(rule.hysteresis) * threshold)
        closing, opening = _kernel(rule.close), _kernel(rule.open)
        if closing is not None:
            mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, closing)
        if opening is not None:
            mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, opening)
        if rule.adapt and self.noise is not None:
            l1 = diff / np.float32(3.0)
            if shift.moved:  # back into the background's frame of reference
                l1 = shift_planes(l1[None], type(shift)(-shift.dx, -shift.dy))[0]
            self.noise.update(l1, mask)
        return mask


def foreground_mask(
    image: np.ndarray, background: np.ndarray, noise: np.ndarray, rule: ForegroundRule
) -> np.ndarray:
    """The rule for one frame on its own (no memory: the noise map is the graph's)."""
    return ForegroundDetector(replace(rule, adapt=0))(image, background, noise)


def to_frame_size(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of a uint8 map to height×width (a no-op at the same size)."""
    if mask.shape == (height, width):
        return mask
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
