"""Exact binary masks of the synthetic object shapes, evaluated at pixel centres.

Each shape lives in a local frame scaled so its circumradius is 1: a pixel belongs to the
object iff its rotated, scaled centre (u, v) falls inside. Hard edges keep the rendered
image and its ground-truth mask identical pixel for pixel.
"""

from __future__ import annotations

import math

import numpy as np

SHAPES = ("disc", "square", "triangle", "star", "ring", "hexagon", "cross")

_STAR_INNER = 0.45  # inner/outer radius of the five-pointed star
_RING_INNER = 0.55


def _regular_polygon(u: np.ndarray, v: np.ndarray, sides: int, first_vertex: float) -> np.ndarray:
    """Inside test for a regular polygon with circumradius 1 (convex: all half-planes)."""
    apothem = math.cos(math.pi / sides)
    inside = np.ones(u.shape, bool)
    for k in range(sides):
        normal = first_vertex + math.pi / sides + 2 * math.pi * k / sides
        inside &= u * math.cos(normal) + v * math.sin(normal) <= apothem
    return inside


def _star(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    # Fold the angle into one half-spike [0, 36°]: the tip at angle 0 (radius 1) and the
    # inner vertex at 36°; inside iff on the origin's side of the tip–inner edge.
    sector = 2 * math.pi / 5
    angle = np.mod(np.arctan2(v, u) + math.pi / 2, sector)  # a tip points up (y is down)
    angle = np.abs(angle - sector / 2)
    angle = sector / 2 - angle
    radius = np.hypot(u, v)
    px, py = radius * np.cos(angle), radius * np.sin(angle)
    ix, iy = _STAR_INNER * math.cos(sector / 2), _STAR_INNER * math.sin(sector / 2)
    # Sign of the cross product (inner - tip) x (p - tip); the origin gives a positive value.
    return (ix - 1.0) * py - iy * (px - 1.0) >= 0


def shape_mask(kind: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Boolean mask of `kind` at local coordinates (u, v) (circumradius 1, y down)."""
    if kind == "disc":
        return u * u + v * v <= 1.0
    if kind == "ring":
        r2 = u * u + v * v
        return (r2 <= 1.0) & (r2 >= _RING_INNER**2)
    if kind == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= math.sqrt(0.5)
    if kind == "triangle":
        return _regular_polygon(u, v, 3, -math.pi / 2)
    if kind == "hexagon":
        return _regular_polygon(u, v, 6, 0.0)
    if kind == "star":
        return _star(u, v)
    if kind == "cross":
        arm, half = 0.3, 0.9
        au, av = np.abs(u), np.abs(v)
        return ((au <= arm) & (av <= half)) | ((av <= arm) & (au <= half))
    raise ValueError(f"unknown shape {kind!r}; known shapes: {', '.join(SHAPES)}")


def local_coordinates(
    height: int, width: int, cx: float, cy: float, radius: float, angle: float
) -> tuple[slice, slice, np.ndarray, np.ndarray]:
    """The image window that can hold the object, and (u, v) of its pixel centres.

    Pixels outside the image are cut away, so objects may stand partly off-frame.
    """
    y0, y1 = max(int(math.floor(cy - radius)), 0), min(int(math.ceil(cy + radius)) + 1, height)
    x0, x1 = max(int(math.floor(cx - radius)), 0), min(int(math.ceil(cx + radius)) + 1, width)
    ys = np.arange(max(y0, 0), max(y1, y0), dtype=np.float64) + 0.5 - cy
    xs = np.arange(max(x0, 0), max(x1, x0), dtype=np.float64) + 0.5 - cx
    dx, dy = np.meshgrid(xs, ys)
    cos, sin = math.cos(angle), math.sin(angle)
    u = (cos * dx + sin * dy) / radius
    v = (-sin * dx + cos * dy) / radius
    return slice(y0, max(y1, y0)), slice(x0, max(x1, x0)), u, v
