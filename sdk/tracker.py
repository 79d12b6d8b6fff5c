"""Stable object IDs across frames from the slots' position, size and appearance.

The model numbers its slots per frame, and a slot index says nothing about which
object it holds next frame. The tracker keeps one track per object and matches
this frame's slots to the tracks with an optimal assignment on a cost that
combines the distance to the track's predicted position (constant velocity),
the change of glimpse size, and the cosine distance of z_what. Pairs too far
apart or too costly are never matched: the slot starts a new track instead. In
fixed-camera mode each object also brings the chromaticity under its mask, which
chooses among the allowed pairs only (two objects that part again keep their IDs;
a blob whose colour changed does not lose its track).
A track that finds no slot is kept, coasting on its velocity, for
`max_lost_frames` frames, so an object that is briefly occluded or missed keeps
its ID; after that it is forgotten, and an object that comes back gets a new ID.
A coasting track's gate stays `gate_distance` around its prediction (it does not widen
with time), and a track predicted wholly outside the view is forgotten at once: an object
that left the scene must not hand its ID to the next one that enters. Only its colour
widens it: a lost track and an observation no track took, of the same chromaticity and
within reach of where the track was last seen, are the same object coming back
(sdk.fixed_camera.reidentify; fixed-camera mode, where objects bring a colour).
A tentative track's pairs cost `tentative_cost` more, so a confirmed track wins an
observation both could take.

Evidence for reporting (`Tracker.reportable`, used by fixed-camera mode): a track is
tentative until seen in `min_hits` frames, and a tentative track that misses a frame is
dropped (ByteTrack's confirmation), so a one-frame speck never gets an ID out. A track that
has never moved `min_travel` from where it was first seen, by a way at least
`coherent_travel` as long as that distance, is part of the scene, not an object: a spot
the background model gets wrong, a leaf that flickers in place. A car that arrives and
parks moved to get there, so it is reported, and stays reported while parked.
A pair is also out of the gate when the distance from the prediction exceeds `size_gate`
times the larger extent of the two boxes (times the frames since the track was seen, at
most `size_gate_growth`, for a coasting track that has moved): the gate of a speck is the
size of a speck, so a track cannot hop from leaf to leaf and so gather the travel of an
object (on real footage of trees, such tracks were most of the objects reported).
The cost matrix is computed in one vectorised pass, so 40 × 40 pairs cost well under a
millisecond.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from sdk.assignment import FORBIDDEN as _FORBIDDEN
from sdk.assignment import linear_sum_assignment
from sdk.fixed_camera.reidentify import colour_reidentified


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
    min_hits: int = 3  # frames a new track must be seen in a row before it is reported
    min_travel: float = 0.03  # move that makes a track an object rather than the scene
    # a track that never moved min_travel is the scene, not an object (still_is_scene), or
    # only when it was present from the stream's first frame (first_frame_still_is_scene,
    # with still_is_scene False); both False: still tracks are reported too (image sets
    # scored object by object, where nothing has a past to move in)
    still_is_scene: bool = True
    first_frame_still_is_scene: bool = True
    # a move counts (moved) only when the distance from where the track was first seen is
    # also at least coherent_travel × the length of the way it took: a leaf that jitters in
    # place, or a speck track that hops about, covers a long way and gets nowhere
    coherent_travel: float = 0.5
    # the largest distance from the prediction, in units of the larger extent (box side)
    # of the track and the observation (fixed-camera mode; 0: the absolute gate alone);
    # for a coasting track that has moved, times the frames since it was seen, at most
    # size_gate_growth
    size_gate: float = 0.5
    size_gate_growth: float = 3.0
    # fixed-camera splitting (sdk.fixed_camera.track_split): the share of a track's moved
    # mask a blob must hold to be split for it, and for how many frames after it was last
    # seen its mask still splits blobs
    split_share: float = 0.3
    split_memory: int = 2
    # the chromaticity under an object's mask (fixed-camera mode): its distance, in units
    # of colour_scale (two objects of different hues are 0.1-0.3 apart) and at most 1, is
    # weighted by colour_weight; it chooses among the pairs the gate and max_cost allow.
    # A track's colour is a running mean with appearance_momentum, like its z_what.
    colour_weight: float = 0.5
    colour_scale: float = 0.1
    # re-identification by colour (sdk.fixed_camera.reidentify): a lost confirmed track of
    # a hue (not grey) takes an observation no track matched, at most recover_colour away
    # in chromaticity and within gate_distance + recover_speed × frames since it was seen
    # (at most recover_frames) of where it was last seen; recover_colour 0: off
    recover_colour: float = 0.1
    recover_speed: float = 0.04
    recover_frames: int = 30
    # added to a tentative track's costs: where a confirmed track could take the same
    # observation, it does (ByteTrack matches confirmed tracks first; a fragment's new
    # track must not take the whole object back from its old one)
    tentative_cost: float = 0.3
    # fixed-camera mode with a slot model (sdk.fixed_camera.slot_evidence): while the slots
    # claim at least this running share of the foreground pixels, a blob no slot claims on a
    # frame with a slot to spare is not reported, unless slots claimed its track in min_hits
    # frames or the track was moved-worthy in unclaimed_steady_frames updates in a row
    # (Track.steady; a frame it was not seen in breaks the run); 0: off
    slot_evidence_share: float = 0.6
    unclaimed_steady_frames: int = 5
    # a frame counts towards that run only while the track is also moving now: over its
    # last steady_window frames seen it went at least steady_move, by a way at most
    # 1 / coherent_travel times as long (a speck that hopped once and sits far from where
    # it was born is moved-worthy, but it is not moving)
    steady_window: int = 3
    steady_move: float = 0.015
    # and only while it is going somewhere: at least min_travel from where it was first
    # seen, by a way at most 1 / coherent_travel times as long over its last
    # steady_history sightings in a row (0: over its whole life, which an object that
    # turned back long ago never meets again: on the classical benchmark's crowded clip one
    # went unreported for 23 frames while it moved straight on)
    steady_history: int = 10
    # a track no slot claimed is also reported once its blob has come in from the image
    # border in unclaimed_entering_frames updates in a row: touching the border, its box
    # `entering_growth` times larger than the frame before and its centre moved inward
    # (sdk.fixed_camera.entering; an object coming into view is partly hidden, so its
    # centre jumps as its shape shows, which breaks the steady run); 0: off
    unclaimed_entering_frames: int = 4
    entering_growth: float = 1.05

    def __post_init__(self) -> None:
        if self.min_hits < 1:
            raise ValueError(f"min_hits is {self.min_hits}; it must be 1 or more.")
        if not 0 < self.split_share <= 1:
            raise ValueError(f"split_share is {self.split_share}; it must be in (0, 1].")
        if self.split_memory < 0:
            raise ValueError(f"split_memory is {self.split_memory}; it must be 0 or more.")
        if self.min_travel < 0:
            raise ValueError(f"min_travel is {self.min_travel}; it must be 0 or more.")
        if self.max_lost_frames < 0:
            raise ValueError(f"max_lost_frames is {self.max_lost_frames}; it must be 0 or more.")
        if not self.colour_weight >= 0:
            raise ValueError(f"colour_weight is {self.colour_weight}; it must be 0 or more.")
        for name in (
            "recover_colour",
            "recover_speed",
            "tentative_cost",
            "size_gate",
            "steady_move",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} is {value}; it must be a finite number, 0 or more.")
        for name in ("coherent_travel", "slot_evidence_share"):
            value = getattr(self, name)
            if isinstance(value, bool) or not 0 <= value <= 1:  # NaN fails too
                raise ValueError(f"{name} is {value}; it must be between 0 and 1.")
        if not (math.isfinite(self.size_gate_growth) and self.size_gate_growth >= 1):
            raise ValueError(
                f"size_gate_growth is {self.size_gate_growth}; it must be a finite number >= 1."
            )
        if (
            isinstance(self.steady_history, bool)
            or not isinstance(self.steady_history, int)
            or self.steady_history < 0
        ):
            raise ValueError(
                f"steady_history is {self.steady_history!r}; it must be a whole number, 0 or more."
            )
        for name in ("unclaimed_steady_frames", "steady_window"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} is {value!r}; it must be a whole number, 1 or more.")
        value = self.unclaimed_entering_frames
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(
                f"unclaimed_entering_frames is {value!r}; it must be a whole number, 0 or more."
            )
        if not (math.isfinite(self.entering_growth) and self.entering_growth >= 1):
            raise ValueError(
                f"entering_growth is {self.entering_growth}; it must be a finite number >= 1."
            )
        if self.recover_frames < 0:
            raise ValueError(f"recover_frames is {self.recover_frames}; it must be 0 or more.")
        for name in ("gate_distance", "max_cost", "colour_scale"):
            if not getattr(self, name) > 0:  # NaN fails too
                raise ValueError(f"{name} is {getattr(self, name)}; it must be positive.")


@dataclass(frozen=True)
class Observation:
    """One slot in one frame, as the tracker sees it."""

    position: np.ndarray  # (2,) x, y in [-1, 1]
    size: np.ndarray  # (1,) or (2,) glimpse extent, 2/s, in the same units
    appearance: np.ndarray  # (Z,) z_what
    colour: np.ndarray | None = None  # (3,) chromaticity under the mask; None: unknown


@dataclass
class Track:
    id: int
    position: np.ndarray
    size: np.ndarray
    appearance: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    lost: int = 0  # frames since last seen
    hits: int = 1  # frames seen
    born: int = 0  # the tracker's frame count when it was first seen
    origin: np.ndarray = field(default_factory=lambda: np.zeros(2))  # where first seen
    confirmed: bool = False
    moved: bool = False  # has been min_travel away from its origin at least once
    path: float = 0.0  # the length of the way its positions took
    steady: int = 0  # frames in a row it was seen in, moved-worthy and moving (Tracker._follow)
    # (x, y, path) at its last steady_window + 1 sightings in a row (Tracker._follow)
    recent: deque[tuple[float, float, float]] = field(default_factory=deque)
    colour: np.ndarray | None = None

    def predicted(self) -> np.ndarray:
        return self.position + self.velocity * (self.lost + 1)


def _cosine_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[len(a), len(b)] of (1 - cos) / 2 in [0, 1]; 0 where either vector is empty or zero."""
    if a.shape[1] == 0 or b.shape[1] == 0 or a.shape[1] != b.shape[1]:
        return np.zeros((a.shape[0], b.shape[0]))
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    ok = (na[:, None] > 1e-12) & (nb[None, :] > 1e-12)
    cos = (a @ b.T) / np.maximum(na[:, None] * nb[None, :], 1e-12)
    return np.where(ok, (1.0 - cos) / 2.0, 0.0)


def _colour_distances(
    tracks: list[Track], observations: list[Observation], scale: float
) -> np.ndarray:
    """[tracks, observations] colour distance / scale, at most 1; 0 where either is unknown
    (an object without a hue neither helps nor hurts any pair)."""
    out = np.zeros((len(tracks), len(observations)))
    known_t = [i for i, t in enumerate(tracks) if t.colour is not None]
    known_o = [j for j, o in enumerate(observations) if o.colour is not None]
    if known_t and known_o:
        a = np.array([tracks[i].colour for i in known_t], dtype=np.float64)
        b = np.array([observations[j].colour for j in known_o], dtype=np.float64)
        gap = np.linalg.norm(a[:, None] - b[None], axis=2) / scale
        out[np.ix_(known_t, known_o)] = np.minimum(gap, 1.0)
    return out


def _stack(rows: list[np.ndarray]) -> np.ndarray:
    """Rows of equal length as a matrix; ragged rows (mixed size kinds) fall back to means."""
    lengths = {r.size for r in rows}
    if len(lengths) == 1:
        return np.array(rows, dtype=np.float64).reshape(len(rows), lengths.pop())
    return np.array([[float(np.mean(r))] for r in rows])


def _left_view(track: Track) -> bool:
    """Whether a coasting track's predicted box lies wholly outside the frame (-1..1)."""
    (px, py), (vx, vy) = track.position.tolist(), track.velocity.tolist()
    size = track.size.tolist()  # one extent (a glimpse's) or two (a box's)
    hx, hy = size[0] / 2.0, size[1 if len(size) > 1 else 0] / 2.0
    lost = track.lost
    return abs(px + vx * lost) - hx > 1.0 or abs(py + vy * lost) - hy > 1.0


class Tracker:
    """Assigns an ID to every observation of every frame; call `update` once per frame."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.tracks: list[Track] = []
        self._next_id = 1
        self._frame = 0  # frames updated since the last reset

    def reset(self) -> None:
        """Forget every track; the next object seen gets ID 1 again."""
        self.tracks = []
        self._next_id = 1
        self._frame = 0

    def _costs(self, observations: list[Observation]) -> np.ndarray:
        """[tracks, observations] matching costs, _FORBIDDEN outside the gate or max_cost."""
        c = self.config
        tracks = self.tracks
        # every track's predicted position at once (Track.predicted, vectorised)
        gaps = np.array([t.lost + 1 for t in tracks], dtype=np.float64)
        predicted = (
            _stack([t.position for t in tracks])
            + _stack([t.velocity for t in tracks]) * gaps[:, None]
        )
        # the gate does not widen while a track coasts: its prediction already carries the
        # motion, and a wider gate hands a departed object's ID to any newcomer in view
        radius = np.full(len(tracks), c.gate_distance, dtype=np.float64)
        positions = np.array([o.position for o in observations], dtype=np.float64)
        distance = np.linalg.norm(predicted[:, None] - positions[None], axis=2) / radius[:, None]
        sizes = _stack([t.size for t in tracks] + [o.size for o in observations])
        ts, os_ = np.maximum(sizes[: len(tracks)], 1e-6), np.maximum(sizes[len(tracks) :], 1e-6)
        size = np.abs(np.log(os_[None] / ts[:, None])).mean(axis=2) / math.log(2.0)
        appearance = _cosine_distances(
            _stack([t.appearance for t in tracks]) if tracks else np.zeros((0, 0)),
            _stack([o.appearance for o in observations]),
        )
        total = (
            c.position_weight * distance + c.size_weight * size + c.appearance_weight * appearance
        )
        allowed = (distance <= 1.0) & (total <= c.max_cost)
        if c.size_gate > 0:  # a speck's gate is a speck's size (module docstring)
            extent = np.maximum(ts.max(axis=1)[:, None], os_.max(axis=1)[None, :])
            # a coasting object's prediction is older: its size gate grows by one per frame
            # lost; not a still track's, or a flickering speck would hop while it is unseen
            grows = np.where([t.moved for t in tracks], np.minimum(gaps, c.size_gate_growth), 1.0)
            allowed &= distance * radius[:, None] <= c.size_gate * extent * grows[:, None]
        # colour only chooses among the pairs the gate allows: a blob whose colour changed
        # (two objects merging, a shadow) must not lose its track for it
        colour = c.colour_weight * _colour_distances(tracks, observations, c.colour_scale)
        tentative = np.array([0.0 if t.confirmed else c.tentative_cost for t in tracks])
        return np.where(allowed, total + colour + tentative[:, None], _FORBIDDEN)

    def reportable(self, track_id: int) -> bool:
        """Whether the track has the evidence to be reported (module docstring)."""
        return self.reportable_ids([track_id])[0]

    def reportable_ids(self, track_ids: list[int]) -> list[bool]:
        """`reportable` of each ID, with one pass over the tracks (40 IDs a frame)."""
        c = self.config
        evident = {
            t.id: t.confirmed
            and (
                t.moved or not (c.still_is_scene or (c.first_frame_still_is_scene and t.born == 0))
            )
            for t in self.tracks
        }
        return [evident.get(i, False) for i in track_ids]

    def velocity_of(self, track_id: int) -> np.ndarray:
        """The track's velocity per frame in the model's units (zeros for an unknown ID)."""
        for track in self.tracks:
            if track.id == track_id:
                return track.velocity
        return np.zeros(2)

    def update(
        self, observations: list[Observation], claimed: dict[int, int] | None = None
    ) -> list[int]:
        """IDs for this frame's observations, in their order. `claimed`: {observation
        index: track ID} pairs known before matching (a piece cut out of a blob by a hidden
        track's colours: sdk.fixed_camera.reemergence). Each pair whose track is live, and
        not claimed by an earlier pair, is kept without the gates or `max_cost`; the rest
        are matched among the other tracks and observations."""
        c = self.config
        ids = [0] * len(observations)
        matched_tracks: set[int] = set()
        if self.tracks and observations:
            cost = self._costs(observations)
            row_of = {t.id: r for r, t in enumerate(self.tracks)}
            for oi, track_id in (claimed or {}).items():
                ti = row_of.get(track_id)
                if ti is None or ti in matched_tracks:
                    continue
                cost[ti, :] = _FORBIDDEN
                cost[:, oi] = _FORBIDDEN
                self._follow(self.tracks[ti], observations[oi])
                ids[oi] = track_id
                matched_tracks.add(ti)
            for ti, oi in zip(*linear_sum_assignment(cost), strict=True):
                if cost[ti, oi] >= _FORBIDDEN:
                    continue
                self._follow(self.tracks[ti], observations[oi])
                ids[oi] = self.tracks[ti].id
                matched_tracks.add(int(ti))
            for ti, oi in self._recovered(observations, ids):
                self._follow(self.tracks[ti], observations[oi])
                ids[oi] = self.tracks[ti].id
                matched_tracks.add(ti)
        survivors = []
        for index, track in enumerate(self.tracks):
            if index not in matched_tracks:
                track.lost += 1
                # a tentative track that misses a frame was never an object; one whose
                # prediction has left the view has left the scene
                if track.lost > c.max_lost_frames or not track.confirmed or _left_view(track):
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
                    born=self._frame,
                    origin=obs.position.astype(np.float64),
                    confirmed=c.min_hits <= 1,
                    colour=None if obs.colour is None else obs.colour.astype(np.float64),
                    recent=deque([(*obs.position.tolist(), 0.0)]),
                )
                self._next_id += 1
                self.tracks.append(track)
                ids[oi] = track.id
        self._frame += 1
        return ids

    def _recovered(self, observations: list[Observation], ids: list[int]) -> list[tuple[int, int]]:
        """(track, observation) indices re-identified by colour: lost confirmed tracks
        against the observations no track took (sdk.fixed_camera.reidentify). A track
        matched this frame has lost 0 again, so it is not among them."""
        c = self.config
        lost = [
            i
            for i, t in enumerate(self.tracks)
            if t.lost > 0 and t.confirmed and t.colour is not None
        ]
        free = [j for j, i in enumerate(ids) if i == 0 and observations[j].colour is not None]
        if not lost or not free:
            return []
        pairs = colour_reidentified(
            np.array([self.tracks[i].position for i in lost], dtype=np.float64),
            np.array([self.tracks[i].lost + 1 for i in lost]),  # frames since it was seen
            np.array([self.tracks[i].colour for i in lost], dtype=np.float64),
            np.array([observations[j].position for j in free], dtype=np.float64),
            np.array([observations[j].colour for j in free], dtype=np.float64),
            c.gate_distance,
            c.recover_speed,
            c.recover_colour,
            c.recover_frames,
        )
        return [(lost[r], free[k]) for r, k in pairs]

    def _follow(self, track: Track, obs: Observation) -> None:
        c = self.config
        gap = track.lost + 1
        # the 2-vectors as Python floats: the same IEEE operations as numpy's, elementwise,
        # without a numpy call for each (40 tracks a frame in a crowd)
        ox, oy = obs.position.tolist()
        px, py = track.position.tolist()
        sx, sy = ox - px, oy - py
        mx, my = sx / gap, sy / gap
        if track.hits == 1:
            vx, vy = mx, my
        else:
            smooth = c.velocity_smoothing
            wx, wy = track.velocity.tolist()
            vx, vy = smooth * mx + (1 - smooth) * wx, smooth * my + (1 - smooth) * wy
        track.velocity = np.array((vx, vy))
        track.position = np.array((ox, oy))
        track.size = obs.size.astype(np.float64)
        m = c.appearance_momentum
        track.appearance = m * track.appearance + (1 - m) * obs.appearance
        if obs.colour is not None:
            seen = obs.colour.astype(np.float64)
            track.colour = seen if track.colour is None else m * track.colour + (1 - m) * seen
        track.lost = 0
        track.hits += 1
        track.confirmed = track.confirmed or track.hits >= c.min_hits
        track.path += math.sqrt(sx * sx + sy * sy)
        qx, qy = track.origin.tolist()
        travel = math.sqrt((ox - qx) * (ox - qx) + (oy - qy) * (oy - qy))
        worthy = travel >= c.min_travel and travel >= c.coherent_travel * track.path
        # a frame it was not seen in breaks the run (a speck that flickers is seen in some
        # frames only, an object in every one), and the window starts again
        recent = track.recent
        if gap > 1:
            recent.clear()
        recent.append((ox, oy, track.path))
        if len(recent) > max(c.steady_window, c.steady_history) + 1:
            recent.popleft()
        ax, ay, way = recent[max(len(recent) - c.steady_window - 1, 0)]
        window = math.sqrt((ox - ax) * (ox - ax) + (oy - ay) * (oy - ay))
        moving = window >= c.steady_move and window >= c.coherent_travel * (track.path - way)
        track.moved = track.moved or worthy  # once moved, always moved
        if c.steady_history > 0:
            # coherent over its last steady_history sightings, not over its whole life: an
            # object that turned back long ago is still going somewhere now
            bx, by, far = recent[0]
            span = math.sqrt((ox - bx) * (ox - bx) + (oy - by) * (oy - by))
            worthy = travel >= c.min_travel and span >= c.coherent_travel * (track.path - far)
        track.steady = (track.steady if gap == 1 else 0) + 1 if worthy and moving else 0
