"""Crops and resizes that reproduce the benchmarks' own preprocessing, in numpy.

Three resamplers matter for fidelity to published numbers:
- `resize_pil_bilinear`: Pillow's antialiased BILINEAR (ClevrTex, torchvision `Resize` on
  PIL images, so ShapeStacks), including its fixed-point rounding and horizontal-first order.
- `resize_labels_centre`: Pillow's NEAREST, sampling at pixel centres (ClevrTex masks).
- `resize_labels_floor`: torch `F.interpolate(mode="nearest")`, src = floor(dst * in / out)
  (GENESIS-V2's CLEVR/ObjectsRoom/ShapeStacks images and masks).
`resize_image` is the general-purpose OpenCV path for users' footage.
"""

from __future__ import annotations

import cv2
import numpy as np

_PRECISION_BITS = 22  # Pillow: 32 - 8 bits per sample - 2 bits headroom


def centre_crop(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """The centred height x width window; top/left offsets round down."""
    top = (array.shape[0] - height) // 2
    left = (array.shape[1] - width) // 2
    return array[top : top + height, left : left + width]


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """RGB uint8 resize to (H, W): area averaging when shrinking, bilinear when enlarging."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    shrinking = height <= image.shape[0] and width <= image.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def _centre_index(n_in: int, n_out: int) -> np.ndarray:
    # Pillow accumulates the source coordinate in doubles (start scale/2, step scale); the
    # same additions reproduce its choice at exact pixel boundaries too.
    step = n_in / n_out
    coord = step * 0.5
    index = np.empty(n_out, np.int64)
    for i in range(n_out):
        index[i] = min(int(coord), n_in - 1)
        coord += step
    return index


def _floor_index(n_in: int, n_out: int) -> np.ndarray:
    return (np.arange(n_out) * n_in) // n_out


def resize_labels_centre(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize sampling at pixel centres (Pillow NEAREST); keeps ids exact."""
    rows = _centre_index(labels.shape[0], size[0])
    cols = _centre_index(labels.shape[1], size[1])
    return labels[rows[:, None], cols[None, :]]


def resize_labels_floor(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize as torch's `interpolate(mode='nearest')` computes it."""
    rows = _floor_index(labels.shape[0], size[0])
    cols = _floor_index(labels.shape[1], size[1])
    return labels[rows[:, None], cols[None, :]]


def _pil_bilinear_coefficients(n_in: int, n_out: int) -> np.ndarray:
    """Fixed-point weights [n_out, n_in] of Pillow's BILINEAR filter (support 1, antialiased)."""
    scale = n_in / n_out
    filter_scale = max(scale, 1.0)
    support = 1.0 * filter_scale
    weights = np.zeros((n_out, n_in), np.float64)
    for out in range(n_out):
        centre = (out + 0.5) * scale
        lo = max(int(centre - support + 0.5), 0)
        hi = min(int(centre + support + 0.5), n_in)
        taps = np.arange(lo, hi)
        w = np.clip(1.0 - np.abs((taps - centre + 0.5) / filter_scale), 0.0, None)
        total = w.sum()
        if total > 0:
            weights[out, lo:hi] = w / total
    scaled = weights * (1 << _PRECISION_BITS)
    return np.where(scaled < 0, scaled - 0.5, scaled + 0.5).astype(np.int64)


def _pil_pass(image: np.ndarray, coefficients: np.ndarray, axis: int) -> np.ndarray:
    moved = np.moveaxis(image.astype(np.int64), axis, 0)
    flat = moved.reshape(moved.shape[0], -1)
    out = (coefficients @ flat + (1 << (_PRECISION_BITS - 1))) >> _PRECISION_BITS
    out = np.clip(out, 0, 255).astype(np.uint8).reshape((-1, *moved.shape[1:]))
    return np.moveaxis(out, 0, axis)


def resize_pil_bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 [H, W, C] resize to (H, W) exactly as Pillow's `Image.resize(..., BILINEAR)`."""
    height, width = size
    out = image
    if out.shape[1] != width:
        out = _pil_pass(out, _pil_bilinear_coefficients(out.shape[1], width), axis=1)
    if out.shape[0] != height:
        out = _pil_pass(out, _pil_bilinear_coefficients(out.shape[0], height), axis=0)
    return out
