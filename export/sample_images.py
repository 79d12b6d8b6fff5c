"""Deterministic test scenes for parity: what a fixed camera sees, not white noise.

A smooth background with a few coloured rectangles and discs and mild sensor noise,
so the attention maps, glimpses and argmax see object-like structure.
"""

from __future__ import annotations

import numpy as np


def sample_images(count: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """uint8 [count, 3, height, width] RGB scenes."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    images = np.empty((count, 3, height, width), dtype=np.float32)
    for i in range(count):
        tilt = rng.uniform(-0.3, 0.3, size=(3, 1, 1)).astype(np.float32)
        base = rng.uniform(0.2, 0.7, size=(3, 1, 1)).astype(np.float32)
        image = base + tilt * (ys / height - 0.5) + tilt[::-1] * (xs / width - 0.5)
        for _ in range(int(rng.integers(2, 5))):
            colour = rng.uniform(0, 1, size=(3, 1, 1)).astype(np.float32)
            cy, cx = rng.uniform(0, height), rng.uniform(0, width)
            ry = rng.uniform(0.08, 0.25) * height
            rx = rng.uniform(0.08, 0.25) * width
            if rng.random() < 0.5:
                inside = ((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2 <= 1
            else:
                inside = (np.abs(ys - cy) <= ry) & (np.abs(xs - cx) <= rx)
            image = np.where(inside[None], colour, image)
        image += rng.normal(0, 0.01, size=image.shape).astype(np.float32)
        images[i] = image
    return np.clip(np.rint(images * 255), 0, 255).astype(np.uint8)
