"""What a real fixed camera adds to the synthetic one: light that drifts or is switched, and
a camera that shakes. Used by `SyntheticVideo` (spec keys `lighting`, `light_period`,
`shake`), both for labelled benchmark clips and for unlabelled training footage.

- `drift`: over one `light_period` the light falls to 60 % and comes back along a cosine,
  turning warmer (blue falls most) and dimming one side of the frame more than the other,
  the way daylight moves over a scene.
- `switch`: every half period a lamp toggles: off, the frame drops to 55 % at once and one
  side to about 41 %; on again, it is back to full light at once.
- `mixed`: both together (training footage that sees every light level, on and off).
- `shake`: the whole view moves by up to `shake` pixels along each axis: a slow sway
  (period `SWAY_PERIOD` frames) plus per-frame jitter, as a pole-mounted camera in wind.

The light multiplies the whole rendered frame (objects are lit too); sensor noise comes
after it. Every random choice comes from the seeds, so frame `t` is always the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from training.data.errors import DataError

LIGHTING = ("none", "drift", "switch", "mixed")
SWAY_PERIOD = 90  # frames of one slow sway cycle
SWAY_SHARE = 0.7  # of the shake amplitude; the rest is per-frame jitter
DRIFT_DEPTH = 0.4  # the light falls to 1 - DRIFT_DEPTH at the bottom of a drift cycle
DRIFT_SIDE = 0.15  # extra dimming of the far side at the bottom of a cycle
DRIFT_TINT = np.array([0.0, 0.05, 0.12], np.float32)  # RGB loss at the bottom: warmer light
SWITCH_LEVEL = 0.55  # the frame's light with the lamp off
SWITCH_SIDE = 0.25  # extra dimming of the far side with the lamp off


@dataclass(frozen=True)
class CameraEffects:
    """`lighting` one of LIGHTING; `light_period` in frames (None = the video's length);
    `shake` the largest offset in pixels along each axis (0 = a still camera)."""

    lighting: str = "none"
    light_period: int | None = None
    shake: float = 0.0

    def validate(self) -> CameraEffects:
        if self.lighting not in LIGHTING:
            raise DataError(
                f"synthetic video lighting {self.lighting!r} not known; choose from "
                f"{', '.join(LIGHTING)}"
            )
        if self.light_period is not None and self.light_period < 2:
            raise DataError(
                f"synthetic video light_period must be at least 2 frames, got {self.light_period}"
            )
        if not (math.isfinite(self.shake) and self.shake >= 0):
            raise DataError(f"synthetic video shake must be a number >= 0, got {self.shake}")
        return self

    @property
    def still(self) -> bool:
        """True when frames look exactly as without effects."""
        return self.lighting == "none" and self.shake == 0

    def describe(self) -> str:
        parts = []
        if self.lighting != "none":
            period = f"/{self.light_period}" if self.light_period else ""
            parts.append(f"lighting {self.lighting}{period}")
        if self.shake:
            parts.append(f"shake {self.shake:g} px")
        return ", ".join(parts) or "still"


class CameraPlan:
    """The effects of one video, resolved: `offset(t)` and `light(t)` for each frame."""

    def __init__(
        self, effects: CameraEffects, frames: int, height: int, width: int, seed: list[int]
    ) -> None:
        self.effects = effects.validate()
        self.period = float(effects.light_period or max(frames, 2))
        self.height, self.width = height, width
        self.seed = seed
        rng = np.random.default_rng([*seed, 0xCA3E])
        self.sway_phase = rng.uniform(0, 2 * math.pi, size=2)
        # The side the light falls off towards: a linear ramp 0 -> 1 across the frame.
        angle = rng.uniform(0, 2 * math.pi)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        proj = (xs - width / 2) * math.cos(angle) + (ys - height / 2) * math.sin(angle)
        self.ramp = (proj - proj.min()) / max(float(np.ptp(proj)), 1e-6)

    def offset(self, t: int) -> tuple[float, float]:
        """(dx, dy) in pixels: how far the view has moved at frame `t`."""
        amplitude = self.effects.shake
        if amplitude == 0:
            return 0.0, 0.0
        jitter = np.random.default_rng([*self.seed, t, 0x5BA4E]).uniform(-1.0, 1.0, size=2)
        sway = np.sin(2 * math.pi * t / SWAY_PERIOD + self.sway_phase)
        dx, dy = amplitude * (SWAY_SHARE * sway + (1 - SWAY_SHARE) * jitter)
        return float(dx), float(dy)

    def shift(self, image: np.ndarray, t: int) -> np.ndarray:
        """`image` (float [H, W, 3], the background) as the moved camera sees it."""
        dx, dy = self.offset(t)
        if dx == 0 and dy == 0:
            return image
        matrix = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
        return cv2.warpAffine(
            np.ascontiguousarray(image, np.float32),
            matrix,
            (self.width, self.height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT_101,
        )

    def light(self, t: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(gain float32 [H, W], RGB tint float32 [3]) at frame `t`: the light multiplies
        each pixel by gain * tint; None under the unchanged light."""
        lighting = self.effects.lighting
        if lighting == "none":
            return None
        level, side = 1.0, 0.0
        tint = np.ones(3, np.float32)
        if lighting in ("drift", "mixed"):
            s = 0.5 * (1.0 - math.cos(2 * math.pi * t / self.period))
            level *= 1.0 - DRIFT_DEPTH * s
            side = 1.0 - (1.0 - side) * (1.0 - DRIFT_SIDE * s)
            tint = tint * (1.0 - DRIFT_TINT * s)
        if lighting in ("switch", "mixed") and int(math.floor(2 * t / self.period)) % 2 == 1:
            level *= SWITCH_LEVEL
            side = 1.0 - (1.0 - side) * (1.0 - SWITCH_SIDE)
        gain = np.float32(-level * side) * self.ramp
        gain += np.float32(level)
        return gain, tint

    def lit(self, images: list[np.ndarray], t: int) -> list[np.ndarray]:
        """Float [H, W, 3] `images` (frame, background) under the light of frame `t`."""
        light = self.light(t)
        if light is None:
            return images
        gain, tint = light
        # One [H, W, 3] gain, then plain elementwise products: numpy's broadcast over a
        # trailing axis of 3 is several times slower.
        gain3 = cv2.merge([gain * np.float32(c) for c in tint])
        return [np.multiply(image, gain3, dtype=np.float32) for image in images]
