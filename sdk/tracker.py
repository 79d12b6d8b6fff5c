"""Stable object IDs across frames from the slots' position, size and appearance.

The model numbers its slots per frame, and a slot index says nothing about which
object it holds next frame. The tracker keeps one track per object and matches
this frame's slots to the tracks with an optimal assignment on a cost that
combines the distance to the track's predicted position (constant velocity),
the change of glimpse size, and the cosine distance of z_what. Pairs too far
apart or too costly are never matched: the slot starts a new track instead.
A track that finds no slot is kept, coasting on its velocity, for
`max_lost_frames` frames, so an object that is briefly occluded or missed keeps
its ID; after that it is forgotten, and an object that comes back gets a new ID.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sdk.assignment import linear_sum_assignment

_FORBIDDEN = 1e6


@dataclass(frozen=True)
class TrackerConfig:
    """Matching parameters; positions are in the model's units (the frame spans -1..1)."""

    max_lost_frames: int = 30  # how long an unseen object keeps its ID
    gate_distance: float = 0.35  # largest move per frame from the predicted position
    position_weight: float = 1.0
    size_weight: float = 0.3
    appearance_weight: float = 1.0
    max_cost: float = 1.5  # a pair costing more is not the same object
    velocity_smoothing: float = 0.5  # weight of the newest motion in the velocity
    appearance_momentum: float = 0.8  # weight of the track's past appearance

    def __post_init__(self) -> None:
        if self.max_lost_frames < 0:
            raise ValueError(f"max_lost_frames is {self.max_lost_frames}; it must be 0 or more.")
        for name in ("gate_distance", "max_cost"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} is {getattr(self, name)}; it must be positive.")


@dataclass(frozen=True)
class Observation:
    """One slot in one frame, as the tracker sees it."""

    position: np.ndarray  # (2,) x, y in [-1, 1]
    size: np.ndarray  # (1,) or (2,) glimpse extent, 2/s, in the same units
    appearance: np.ndarray  # (Z,) z_what


@dataclass
class Track:
    id: int
    position: np.ndarray
    size: np.ndarray
    appearance: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    lost: int = 0  # frames since last seen
    hits: int = 1  # frames seen

    def predicted(self) -> np.ndarray:
        return self.position + self.velocity * (self.lost + 1)


def _cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    """(1 - cos) / 2 in [0, 1]; 0 when either vector is empty or zero."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if a.size == 0 or na < 1e-12 or nb < 1e-12:
        return 0.0
    return (1.0 - float(np.dot(a, b)) / (na * nb)) / 2.0


class Tracker:
    """Assigns an ID to every observation of every frame; call `update` once per frame."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.tracks: list[Track] = []
        self._next_id = 1

    def reset(self) -> None:
        """Forget every track; the next object seen gets ID 1 again."""
        self.tracks = []
        self._next_id = 1

    def _cost(self, track: Track, obs: Observation) -> float:
        c = self.config
        radius = c.gate_distance * (track.lost + 1)
        distance = float(np.linalg.norm(track.predicted() - obs.position)) / radius
        if distance > 1.0:
            return _FORBIDDEN
        ratio = np.abs(np.log(np.maximum(obs.size, 1e-6) / np.maximum(track.size, 1e-6)))
        size = float(np.mean(ratio)) / math.log(2.0)
        appearance = _cosine_distance(track.appearance, obs.appearance)
        total = (
            c.position_weight * distance + c.size_weight * size + c.appearance_weight * appearance
        )
        return total if total <= c.max_cost else _FORBIDDEN

    def update(self, observations: list[Observation]) -> list[int]:
        """IDs for this frame's observations, in their order."""
        c = self.config
        ids = [0] * len(observations)
        matched_tracks: set[int] = set()
        if self.tracks and observations:
            cost = np.array([[self._cost(t, o) for o in observations] for t in self.tracks])
            for ti, oi in zip(*linear_sum_assignment(cost), strict=True):
                if cost[ti, oi] >= _FORBIDDEN:
                    continue
                self._follow(self.tracks[ti], observations[oi])
                ids[oi] = self.tracks[ti].id
                matched_tracks.add(int(ti))
        survivors = []
        for index, track in enumerate(self.tracks):
            if index not in matched_tracks:
                track.lost += 1
                if track.lost > c.max_lost_frames:
                    continue
            survivors.append(track)
        self.tracks = survivors
        for oi, obs in enumerate(observations):
            if ids[oi] == 0:
                track = Track(
                    id=self._next_id,
                    position=obs.position.astype(np.float64),
                    size=obs.size.astype(np.float64),
                    appearance=obs.appearance.astype(np.float64),
                )
                self._next_id += 1
                self.tracks.append(track)
                ids[oi] = track.id
        return ids

    def _follow(self, track: Track, obs: Observation) -> None:
        c = self.config
        gap = track.lost + 1
        motion = (obs.position - track.position) / gap
        if track.hits == 1:
            track.velocity = motion
        else:
            track.velocity = (
                c.velocity_smoothing * motion + (1 - c.velocity_smoothing) * track.velocity
            )
        track.position = obs.position.astype(np.float64)
        track.size = obs.size.astype(np.float64)
        m = c.appearance_momentum
        track.appearance = m * track.appearance + (1 - m) * obs.appearance
        track.lost = 0
        track.hits += 1
