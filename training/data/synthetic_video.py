"""Fixed-camera synthetic footage: objects enter, move on smooth paths, occlude each other
and leave; every object keeps one instance id for its whole life (to score ID switches).

The whole motion plan is drawn up front from the seed, so frame `t` can be rendered alone
(`video[t]`), or the video streamed in order (`iter_frames`), with identical pixels.
`CameraEffects` (training.data.camera_effects) add a drifting or switched light and a
shaking camera; `motion_seed` gives the same camera (same background) other traffic.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from training.data.camera_effects import CameraEffects, CameraPlan
from training.data.errors import DataError
from training.data.sample import Sample, SampleDataset
from training.data.synthetic import (
    SceneConfig,
    SceneObject,
    render_objects,
    sample_appearance,
    scene_background,
)
from training.data.textures import to_uint8

_SIDES = ("left", "right", "top", "bottom")


@dataclass(frozen=True)
class Track:
    """One object's life: frames [start, start + duration), along a quadratic Bézier curve
    from `entry` (off-frame) through `control` (inside) to `exit` (off-frame)."""

    track_id: int
    start: int
    duration: int
    entry: tuple[float, float]
    control: tuple[float, float]
    exit: tuple[float, float]
    depth: float  # larger = farther; painted first
    spin: float  # radians per frame
    look: SceneObject  # appearance; its pose is replaced frame by frame

    def alive(self, t: int) -> bool:
        return self.start <= t < self.start + self.duration

    def pose(self, t: int) -> SceneObject:
        s = (t - self.start + 0.5) / self.duration
        a, b, c = (1 - s) ** 2, 2 * s * (1 - s), s * s
        x = a * self.entry[0] + b * self.control[0] + c * self.exit[0]
        y = a * self.entry[1] + b * self.control[1] + c * self.exit[1]
        return self.look.moved(x, y, self.look.angle + self.spin * (t - self.start))


def _edge_point(
    rng: np.random.Generator, side: str, height: int, width: int, margin: float
) -> tuple[float, float]:
    along = rng.uniform(0.15, 0.85)
    if side == "left":
        return -margin, along * height
    if side == "right":
        return width + margin, along * height
    if side == "top":
        return along * width, -margin
    return along * width, height + margin


def _curve_length(
    p0: tuple[float, float], p1: tuple[float, float], p2: tuple[float, float]
) -> float:
    s = np.linspace(0.0, 1.0, 33)
    xs = (1 - s) ** 2 * p0[0] + 2 * s * (1 - s) * p1[0] + s * s * p2[0]
    ys = (1 - s) ** 2 * p0[1] + 2 * s * (1 - s) * p1[1] + s * s * p2[1]
    return float(np.hypot(np.diff(xs), np.diff(ys)).sum())


def plan_tracks(
    config: SceneConfig, frames: int, speed: float = 0.7, motion_seed: int | None = None
) -> list[Track]:
    """Draws every object's path; at most `config.max_objects` are on screen at once.

    The plan starts before frame 0 so that the first frame already shows a scene in
    motion. `speed` is the mean speed in pixels per frame at a 64-pixel side. Paths come
    from `config.seed`, or from (`config.seed`, `motion_seed`) when that is given.
    """
    extra = [] if motion_seed is None else [motion_seed]
    rng = np.random.default_rng([config.seed, 0x71DE0, *extra])
    height, width = config.height, config.width
    side = min(height, width)
    mean_duration = (side + 0.3 * side) / (speed * side / 64)
    spawn_probability = min(1.0, 1.5 * max(config.max_objects, 1) / mean_duration)
    tracks: list[Track] = []
    reference = scene_background(config, np.random.default_rng([config.seed, 1]), 0.0)
    reference_colour = reference.reshape(-1, 3).mean(0)
    warmup = int(mean_duration)
    for t in range(-warmup, frames):
        alive = sum(1 for track in tracks if track.alive(t))
        if alive >= config.max_objects or rng.random() >= spawn_probability:
            continue
        look = sample_appearance(rng, config, reference_colour)
        margin = look.radius * 1.05  # start and end fully off-frame
        entry_side = _SIDES[int(rng.integers(4))]
        exit_side = [s for s in _SIDES if s != entry_side][int(rng.integers(3))]
        entry = _edge_point(rng, entry_side, height, width, margin)
        exit_ = _edge_point(rng, exit_side, height, width, margin)
        control = (rng.uniform(0.25, 0.75) * width, rng.uniform(0.25, 0.75) * height)
        pixels_per_frame = rng.uniform(0.6, 1.4) * speed * side / 64
        duration = max(2, int(math.ceil(_curve_length(entry, control, exit_) / pixels_per_frame)))
        tracks.append(
            Track(
                track_id=len(tracks) + 1,
                start=t,
                duration=duration,
                entry=entry,
                control=control,
                exit=exit_,
                depth=float(rng.random()),
                spin=float(rng.uniform(-0.02, 0.02)),
                look=look,
            )
        )
    visible = [track for track in tracks if track.start + track.duration > 0]
    return [replace(track, track_id=i) for i, track in enumerate(visible, start=1)]


class SyntheticVideo(SampleDataset):
    """`frames` frames of one fixed-camera video; `video[t]` or `iter_frames()`.

    Ids are the tracks' ids (1, 2, ... in order of appearance), the same in every frame.
    `config.min_objects` is not used: the number on screen varies as objects come and go.
    `effects` light and move the whole view; the ids follow the moved objects exactly.
    """

    def __init__(
        self,
        config: SceneConfig | None = None,
        frames: int = 300,
        speed: float = 0.7,
        effects: CameraEffects | None = None,
        motion_seed: int | None = None,
    ) -> None:
        self.config = (config or SceneConfig()).validate()
        if frames < 1:
            raise DataError(f"synthetic video needs at least 1 frame, got {frames}")
        if speed <= 0:
            raise DataError(f"synthetic video speed must be positive, got {speed}")
        if motion_seed is not None and motion_seed < 0:
            raise DataError(f"synthetic video motion_seed must be >= 0, got {motion_seed}")
        self.frames = frames
        self.motion_seed = motion_seed
        self.tracks = plan_tracks(self.config, frames, speed, motion_seed)
        # Start and end frames as arrays: long training footage has thousands of tracks.
        self._starts = np.array([tr.start for tr in self.tracks], np.int64)
        self._ends = self._starts + np.array([tr.duration for tr in self.tracks], np.int64)
        self.effects = (effects or CameraEffects()).validate()
        c = self.config
        extra = [] if motion_seed is None else [motion_seed]
        self.camera = CameraPlan(self.effects, frames, c.height, c.width, [c.seed, *extra])
        effects_text = "" if self.effects.still else f", {self.effects.describe()}"
        self.description = f"synthetic video ({c.height}x{c.width}, {frames} frames{effects_text})"

    def __len__(self) -> int:
        return self.frames

    def render(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(image uint8 RGB, instance ids int32, background uint8 RGB) of frame `t`; the
        background is the scene without its objects under the same light and shake."""
        c = self.config
        # The texture background is one texture for the whole video (a fixed camera).
        background = scene_background(c, np.random.default_rng([c.seed, 0x7E7]), float(t))
        # A shaken camera moves the background and every object alike; objects are painted
        # at their moved poses, so their edges and ids stay exact.
        background = self.camera.shift(background, t)
        dx, dy = self.camera.offset(t)
        alive = sorted((self.tracks[i] for i in self._alive(t)), key=lambda tr: -tr.depth)
        objects = []
        for track in alive:
            pose = track.pose(t)
            objects.append((track.track_id, pose.moved(pose.cx + dx, pose.cy + dy, pose.angle)))
        canvas, ids = render_objects(background, objects)
        canvas, background = self.camera.lit([canvas, background], t)
        if c.noise > 0:
            rng = np.random.default_rng([c.seed, t, 0x4015E])
            canvas = canvas + rng.normal(0.0, c.noise, canvas.shape).astype(np.float32)
        return to_uint8(canvas), ids, to_uint8(background)

    def _alive(self, t: int) -> np.ndarray:
        """Indices (into `tracks`) of the tracks on screen at frame `t`."""
        return np.flatnonzero((self._starts <= t) & (t < self._ends))

    def __getitem__(self, index: int) -> Sample:
        t = self._check_index(index)
        image, ids, background = self.render(t)
        return Sample(
            image=image, mask=ids, background=background, name=f"{t:06d}",
            sequence="synthetic-video", frame=t,
        )  # fmt: skip

    def iter_frames(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yields (frame uint8 RGB, instance ids int32) in order, without touching disk."""
        for t in range(self.frames):
            image, ids, _ = self.render(t)
            yield image, ids
