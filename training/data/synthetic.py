"""Seeded multi-object scenes with exact instance masks: the data every test, benchmark and
the demo can use offline.

Scene `i` of a config is drawn from `numpy.random.default_rng([seed, i])`, so any sample
can be regenerated alone, in any order, on any machine. Objects are painted back to front
(generation order = depth order); an object is only kept if enough of it stays visible.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from training.data.errors import DataError
from training.data.sample import Sample, SampleDataset
from training.data.shapes import SHAPES, local_coordinates, shape_mask
from training.data.textures import (
    BACKGROUNDS,
    TEXTURES,
    fixed_background,
    gradient_background,
    object_pattern,
    random_texture,
    to_uint8,
    vivid_colour,
)

_MIN_CONTRAST = 70.0  # RGB distance between an object's colour and the background under it
_PLACEMENT_TRIES = 30


@dataclass(frozen=True)
class SceneConfig:
    """What the generator draws; every field is checked by `validate`."""

    height: int = 64
    width: int = 64
    max_objects: int = 4
    min_objects: int = 1
    shapes: tuple[str, ...] = SHAPES
    background: str = "fixed"  # fixed | texture | gradient
    textured: float = 0.0  # probability that an object carries a texture
    object_size: tuple[float, float] = (0.10, 0.22)  # circumradius / shorter image side
    min_visible: float = 0.4  # share of an object's area that must survive occlusion
    noise: float = 0.0  # std of per-pixel sensor noise, 0-255 scale
    seed: int = 0

    def validate(self) -> SceneConfig:
        if self.height < 8 or self.width < 8:
            raise DataError(f"synthetic size must be at least 8x8, got {self.height}x{self.width}")
        if not 0 <= self.min_objects <= self.max_objects:
            raise DataError(
                f"synthetic objects: need 0 <= min_objects <= max_objects, got "
                f"{self.min_objects} and {self.max_objects}"
            )
        if self.max_objects > 255:
            raise DataError(f"synthetic objects: at most 255 per image, got {self.max_objects}")
        unknown = [s for s in self.shapes if s not in SHAPES]
        if unknown or not self.shapes:
            raise DataError(
                f"synthetic shapes {unknown or '(none)'} not known; choose from {', '.join(SHAPES)}"
            )
        if self.background not in BACKGROUNDS:
            raise DataError(
                f"synthetic background {self.background!r} not known; choose from "
                f"{', '.join(BACKGROUNDS)}"
            )
        if not 0 <= self.textured <= 1:
            raise DataError(
                f"synthetic textured must be a probability in [0, 1], got {self.textured}"
            )
        lo, hi = self.object_size
        if not 0 < lo <= hi <= 0.5:
            raise DataError(
                f"synthetic object_size must satisfy 0 < min <= max <= 0.5, got {lo}, {hi}"
            )
        if not 0 <= self.min_visible <= 1:
            raise DataError(f"synthetic min_visible must lie in [0, 1], got {self.min_visible}")
        if self.noise < 0:
            raise DataError(f"synthetic noise must be >= 0, got {self.noise}")
        return self


@dataclass(frozen=True)
class SceneObject:
    """One object's appearance and pose (pixels; angle in radians)."""

    shape: str
    cx: float
    cy: float
    radius: float
    angle: float
    colour: np.ndarray = field(repr=False)
    texture: str | None = None
    texture_colour: np.ndarray | None = field(default=None, repr=False)
    texture_frequency: float = 2.0

    def moved(self, cx: float, cy: float, angle: float) -> SceneObject:
        return SceneObject(
            self.shape, cx, cy, self.radius, angle, self.colour, self.texture,
            self.texture_colour, self.texture_frequency,
        )  # fmt: skip


def sample_appearance(
    rng: np.random.Generator, config: SceneConfig, reference: np.ndarray
) -> SceneObject:
    """A new object at the origin: shape, size, turn, colour (standing out from the RGB
    `reference`) and texture; `moved` places it."""
    shape = config.shapes[int(rng.integers(len(config.shapes)))]
    side = min(config.height, config.width)
    radius = float(rng.uniform(*config.object_size)) * side
    colour = vivid_colour(rng)
    for _ in range(10):
        if float(np.linalg.norm(colour - reference)) >= _MIN_CONTRAST:
            break
        colour = vivid_colour(rng)
    texture, texture_colour, frequency = None, None, 2.0
    if config.textured > 0 and rng.random() < config.textured:
        texture = TEXTURES[int(rng.integers(len(TEXTURES)))]
        texture_colour = colour * float(rng.uniform(0.35, 0.6))
        frequency = float(rng.uniform(1.5, 3.0))
    angle = float(rng.uniform(0, 2 * math.pi))
    return SceneObject(shape, 0.0, 0.0, radius, angle, colour, texture, texture_colour, frequency)


def object_footprint(obj: SceneObject, height: int, width: int) -> tuple[slice, slice, np.ndarray]:
    rows, cols, u, v = local_coordinates(height, width, obj.cx, obj.cy, obj.radius, obj.angle)
    return rows, cols, shape_mask(obj.shape, u, v)


def paint_object(canvas: np.ndarray, ids: np.ndarray, obj: SceneObject, instance: int) -> None:
    """Paints `obj` over `canvas` (float RGB) and writes `instance` into `ids` where it shows."""
    height, width = ids.shape
    rows, cols, u, v = local_coordinates(height, width, obj.cx, obj.cy, obj.radius, obj.angle)
    inside = shape_mask(obj.shape, u, v)
    if not inside.any():
        return
    colour = np.broadcast_to(obj.colour, (*inside.shape, 3))
    if obj.texture is not None and obj.texture_colour is not None:
        t = object_pattern(obj.texture, u, v, obj.texture_frequency)[:, :, None]
        colour = obj.colour * (1 - t) + obj.texture_colour * t
    window = canvas[rows, cols]
    window[inside] = colour[inside]
    ids[rows, cols][inside] = instance


def render_objects(
    background: np.ndarray, objects: list[tuple[int, SceneObject]]
) -> tuple[np.ndarray, np.ndarray]:
    """Paints (id, object) pairs in list order (back to front): float image and id map."""
    canvas = background.astype(np.float32, copy=True)
    ids = np.zeros(background.shape[:2], np.int32)
    for instance, obj in objects:
        paint_object(canvas, ids, obj, instance)
    return canvas, ids


@functools.lru_cache(maxsize=8)
def _fixed_background(seed: int, height: int, width: int) -> np.ndarray:
    image = fixed_background(seed, height, width)
    image.setflags(write=False)
    return image


def scene_background(config: SceneConfig, rng: np.random.Generator, time: float) -> np.ndarray:
    """float32 [H, W, 3] background of image/frame `time` (texture draws from `rng`)."""
    if config.background == "fixed":
        return _fixed_background(config.seed, config.height, config.width)
    if config.background == "texture":
        return random_texture(rng, config.height, config.width)
    return gradient_background(config.seed, config.height, config.width, time)


def _place_objects(
    rng: np.random.Generator, config: SceneConfig, background: np.ndarray, count: int
) -> list[SceneObject]:
    height, width = config.height, config.width
    placed: list[SceneObject] = []
    ids = np.zeros((height, width), np.int32)
    areas: list[int] = []
    mean_colour = background.reshape(-1, 3).mean(0)
    for _ in range(count):
        for _ in range(_PLACEMENT_TRIES):
            look = sample_appearance(rng, config, mean_colour)
            cx = float(rng.uniform(look.radius * 0.7, width - look.radius * 0.7))
            cy = float(rng.uniform(look.radius * 0.7, height - look.radius * 0.7))
            obj = look.moved(cx, cy, look.angle)
            rows, cols, inside = object_footprint(obj, height, width)
            area = int(inside.sum())
            if area < 4:
                continue
            trial = ids.copy()
            trial[rows, cols][inside] = len(placed) + 1
            visible = np.bincount(trial.ravel(), minlength=len(placed) + 2)[1 : len(placed) + 1]
            if all(v >= config.min_visible * a for v, a in zip(visible, areas, strict=True)):
                local = background[rows, cols][inside].mean(0)
                if float(np.linalg.norm(obj.colour - local)) < _MIN_CONTRAST * 0.6:
                    continue
                placed.append(obj)
                areas.append(area)
                ids = trial
                break
    return placed


def render_scene(config: SceneConfig, index: int) -> Sample:
    """Scene `index` of `config`: image, exact instance ids (1..n back to front), background."""
    rng = np.random.default_rng([config.seed, index])
    background = scene_background(config, rng, float(index))
    count = int(rng.integers(config.min_objects, config.max_objects + 1))
    objects = _place_objects(rng, config, background, count)
    canvas, ids = render_objects(background, list(enumerate(objects, start=1)))
    if config.noise > 0:
        canvas = canvas + rng.normal(0.0, config.noise, canvas.shape).astype(np.float32)
    return Sample(
        image=to_uint8(canvas), mask=ids, background=to_uint8(background), name=f"{index:06d}"
    )


class SyntheticScenes(SampleDataset):
    """`count` independent scenes of `config`; `ds[i]` is always the same image."""

    def __init__(self, config: SceneConfig | None = None, count: int = 1000) -> None:
        self.config = (config or SceneConfig()).validate()
        if count < 1:
            raise DataError(f"synthetic count must be at least 1, got {count}")
        self.count = count
        c = self.config
        self.description = f"synthetic scenes ({c.height}x{c.width}, {c.background} background)"

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> Sample:
        return render_scene(self.config, self._check_index(index))
