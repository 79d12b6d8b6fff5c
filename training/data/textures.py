"""Backgrounds and object textures for the synthetic scenes (numpy + OpenCV, seeded).

Backgrounds are muted (low saturation) so that objects, which are saturated, stay
visible; every function takes its own `numpy.random.Generator`, so a (seed, index) pair
always gives the same pixels.
"""

from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np

BACKGROUNDS = ("fixed", "texture", "gradient")
TEXTURES = ("stripes", "checker", "dots")


def hsv_colour(hue: float, saturation: float, value: float) -> np.ndarray:
    """float32 RGB in [0, 255]."""
    return np.array(colorsys.hsv_to_rgb(hue, saturation, value), np.float32) * 255.0


def muted_colour(rng: np.random.Generator) -> np.ndarray:
    return hsv_colour(rng.random(), rng.uniform(0.05, 0.35), rng.uniform(0.35, 0.85))


def vivid_colour(rng: np.random.Generator) -> np.ndarray:
    return hsv_colour(rng.random(), rng.uniform(0.55, 1.0), rng.uniform(0.6, 1.0))


def value_noise(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Smooth noise in [0, 1]: a coarse random grid upsampled with cubic interpolation."""
    grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
    field = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(field, 0.0, 1.0)


def _mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return a[None, None, :] * (1.0 - t[:, :, None]) + b[None, None, :] * t[:, :, None]


def fixed_background(seed: int, height: int, width: int) -> np.ndarray:
    """The one background of a fixed camera: a lit floor-like surface, float32 [H, W, 3]."""
    rng = np.random.default_rng([seed, 0xBAC])
    top, bottom = muted_colour(rng), muted_colour(rng)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None] * np.ones(
        (1, width), np.float32
    )
    image = _mix(top, bottom, ramp)
    image += (value_noise(rng, height, width, 4)[:, :, None] - 0.5) * 50.0
    image += (
        value_noise(rng, height, width, max(4, min(height, width) // 4))[:, :, None] - 0.5
    ) * 12
    return image


def random_texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A per-image background texture (noise, stripes, checks or blobs), float32 [H, W, 3]."""
    a, b = muted_colour(rng), muted_colour(rng)
    kind = int(rng.integers(4))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == 0:
        t = value_noise(rng, height, width, int(rng.integers(3, 9)))
    elif kind == 1:
        angle = rng.uniform(0, math.pi)
        period = rng.uniform(0.08, 0.25) * min(height, width)
        phase = xs * math.cos(angle) + ys * math.sin(angle)
        t = 0.5 + 0.5 * np.sin(2 * math.pi * phase / period)
    elif kind == 2:
        cell = max(2.0, rng.uniform(0.08, 0.2) * min(height, width))
        t = ((np.floor(xs / cell) + np.floor(ys / cell)) % 2).astype(np.float32)
    else:
        t = (value_noise(rng, height, width, int(rng.integers(4, 10))) > 0.5).astype(np.float32)
        t = cv2.GaussianBlur(t, (0, 0), max(0.6, 0.01 * min(height, width)))
    return _mix(a, b, t)


def gradient_background(seed: int, height: int, width: int, time: float) -> np.ndarray:
    """A linear colour gradient whose lighting drifts slowly with `time` (image/frame index).

    Brightness follows a slow sinusoid (period 400 steps, ±25 %) and the gradient direction
    sways by ±15°, the kind of change a fixed camera sees over a day.
    """
    rng = np.random.default_rng([seed, 0x96AD])
    a, b = muted_colour(rng), muted_colour(rng)
    base_angle, phase = rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)
    angle = base_angle + math.radians(15.0) * math.sin(2 * math.pi * time / 1000.0 + phase)
    gain = 1.0 + 0.25 * math.sin(2 * math.pi * time / 400.0 + phase)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    proj = (xs - width / 2) * math.cos(angle) + (ys - height / 2) * math.sin(angle)
    extent = 0.5 * (abs(width * math.cos(angle)) + abs(height * math.sin(angle))) + 1e-6
    t = np.clip(0.5 + 0.5 * proj / extent, 0.0, 1.0)
    return _mix(a, b, t) * gain


def object_pattern(kind: str, u: np.ndarray, v: np.ndarray, frequency: float) -> np.ndarray:
    """A 0/1 texture in the object's own frame, so it moves and turns with the object."""
    if kind == "stripes":
        return (np.sin(2 * math.pi * frequency * u) > 0).astype(np.float32)
    if kind == "checker":
        return ((np.floor(u * frequency) + np.floor(v * frequency)) % 2).astype(np.float32)
    if kind == "dots":
        fu, fv = np.mod(u * frequency, 1.0) - 0.5, np.mod(v * frequency, 1.0) - 0.5
        return (fu * fu + fv * fv < 0.09).astype(np.float32)
    raise ValueError(f"unknown texture {kind!r}; known: {', '.join(TEXTURES)}")


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
