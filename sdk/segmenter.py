"""`Segmenter`: per-object masks and stable IDs for frames, batches and streams, without torch.

    from sdk import Segmenter
    seg = Segmenter("my_bundle.zip")           # or Segmenter() for the shipped default model
    result = seg(frame)                        # BGR uint8 frame of any size -> FrameResult
    for result in seg.stream("input.mp4"):     # a file, camera index, URL, image folder ...
        for obj in result.objects:
            print(obj.id, obj.bbox, obj.area)

Per frame: resize to the model's size (sdk.preprocess), run the graphs (a
backend), map the layer weights back to the frame's pixels (sdk.postprocess),
drop slots under the score/area thresholds, and give every object its track ID
(sdk.tracker).

Threads: `seg(frame)`, `seg.batch(...)` and each frame of `seg.stream(...)` hold one lock,
so calls from several threads are safe and run one at a time (IDs follow the order they
take it); for frames in parallel, use one Segmenter per thread. `prepare`, `infer` and
`finish` are not locked: each is for one thread of a pipeline (sdk.run.pipeline).
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from collections.abc import Iterator, Sequence
from types import TracebackType

import numpy as np

from sdk.backends import Backend, open_backend
from sdk.backends.base import BackgroundOutput
from sdk.bundle.bundle import Bundle, load_bundle
from sdk.bundle.manifest import ModelSpec
from sdk.errors import AstsegError
from sdk.fixed_camera.background_refresh import BackgroundRefresh
from sdk.fixed_camera.fixed_camera import fixed_camera_result, resolve_masks_from
from sdk.fixed_camera.foreground import ForegroundDetector
from sdk.fixed_camera.object_tracks import ObjectTracks
from sdk.options import DEFAULTS, SegmenterOptions
from sdk.postprocess import frame_labels, slot_regions
from sdk.preprocess import Channels, check_frame, to_model_input
from sdk.results import DetectedObject, FrameResult, InferredFrames, PreparedFrames, Timings
from sdk.sources.live import Reconnect
from sdk.sources.sources import SOURCE_TIMEOUT_S, open_source
from sdk.tracker import Observation, Tracker, TrackerConfig


def check_threads(threads: object) -> None:
    """`threads` is None (every usable core) or a whole number of 1 or more."""
    if threads is None:
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(
            f"threads is {threads!r}; it must be a whole number of 1 or more, or None for "
            "every core this process may use."
        )


class Segmenter:
    """Loads a bundle once, then segments frames; see the module docstring."""

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        backend: str = DEFAULTS.backend,
        device: str | int = DEFAULTS.device,
        *,
        channels: Channels = DEFAULTS.channels,
        min_score: float = DEFAULTS.min_score,
        min_area: int = DEFAULTS.min_area,
        track: bool = DEFAULTS.track,
        tracker: TrackerConfig | None = DEFAULTS.tracker,
        threads: int | None = DEFAULTS.threads,
        masks_from: str | None = DEFAULTS.masks_from,
        background_every: int = DEFAULTS.background_every,
        background_change: float = DEFAULTS.background_change,
    ) -> None:
        """
        model: bundle directory or .zip from `astseg export`; None for the shipped default.
        backend: "auto" (fastest available, logged), "onnxruntime" or "tensorrt".
        device: "auto", "cpu", "cuda" or "cuda:N".
        channels: colour order of 3/4-channel frames, "bgr" (OpenCV) or "rgb".
        min_score: report slots whose activation score α/(α+α0) is at least this.
        min_area: report slots owning at least this many pixels of the original frame.
        track: give stable IDs across frames; when False an object's ID is its slot + 1.
        tracker: matching parameters (how long a lost object keeps its ID, gates, weights).
        threads: inference threads; default all cores this process may use.
        masks_from: "fused", "slots" or "background" (sdk.fixed_camera); default "fused"
            when the bundle has a background model, else "slots".
        background_every, background_change: in a stream, run the background graph on every
            N-th frame and on any frame whose median grey change from the last one it ran on
            exceeds this many levels (a light switch); 1 = every frame
            (sdk.fixed_camera.background_refresh).

        The same options as one object: `Segmenter.from_options(model, SegmenterOptions(...))`.
        """
        check_threads(threads)
        options = SegmenterOptions(  # checks channels, min_score and min_area
            backend=backend,
            device=device,
            channels=channels,
            min_score=min_score,
            min_area=min_area,
            track=track,
            tracker=tracker,
            threads=threads,
            masks_from=masks_from,
            background_every=background_every,
            background_change=background_change,
        )
        self._refresh = BackgroundRefresh(background_every, background_change)  # checks them
        self.options = options
        self.bundle: Bundle = load_bundle(model)
        self.spec: ModelSpec = self.bundle.manifest.model
        self.backend: Backend = open_backend(
            self.bundle, backend=backend, device=device, threads=threads
        )
        try:
            self.masks_from: str = resolve_masks_from(masks_from, self.bundle, self.backend)
        except BaseException:
            self.backend.close()
            raise
        config = tracker or TrackerConfig()
        if self.masks_from == "slots":  # a slot's size is its glimpse's, not a box: no size gate
            config = dataclasses.replace(config, size_gate=0.0)
        self.tracker = Tracker(config)
        self._objects = ObjectTracks(self.tracker)  # fixed-camera: split, track, evidence
        self._foreground: ForegroundDetector | None = None  # the stream's rule memory
        self._frames_seen = 0
        self._last_background: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.RLock()  # one call at a time: tracker and background state
        self._closed = False

    @classmethod
    def from_options(
        cls, model: str | os.PathLike[str] | None, options: SegmenterOptions
    ) -> Segmenter:
        """A Segmenter for `model` with every option taken from `options`."""
        return cls(model, **options.as_kwargs())

    @property
    def channels(self) -> Channels:
        return self.options.channels

    @property
    def min_score(self) -> float:
        return self.options.min_score

    @property
    def min_area(self) -> int:
        return self.options.min_area

    @property
    def track(self) -> bool:
        return self.options.track

    @property
    def backend_description(self) -> str:
        """Which engine runs the model, e.g. 'onnxruntime 1.32.0 (CPUExecutionProvider, ...)'."""
        return self.backend.description

    def _detector(self) -> ForegroundDetector:
        """The foreground rule with this stream's memory (shift reference, noise map)."""
        if self._foreground is None:
            background = self.bundle.manifest.background
            assert background is not None  # only fixed-camera bundles get here
            self._foreground = ForegroundDetector(background.rule)
        return self._foreground

    def reset(self) -> None:
        """Forget all tracks (IDs restart at 1) and restart frame numbering."""
        with self._lock:
            self._objects.reset()  # resets self.tracker too
            self._foreground = None
            self._frames_seen = 0
            self._refresh.reset()

    def _check_open(self) -> None:
        if self._closed:
            raise AstsegError(
                "this Segmenter was closed (seg.close() or the end of its `with` block); "
                "create a new Segmenter to segment more frames."
            )

    def __call__(
        self,
        frame: np.ndarray,
        *,
        persist: bool = True,
        index: int | None = None,
        timestamp: float | None = None,
        channels: Channels | None = None,
    ) -> FrameResult:
        """Segment one frame. With persist=True (default) IDs continue from the previous call.

        index and timestamp default to a running count and the current time.
        """
        with self._lock:
            self._check_open()
            if not persist:
                self.reset()
            number = self._frames_seen if index is None else index
            stamp = time.time() if timestamp is None else timestamp
            return self._run([frame], [number], [stamp], channels or self.channels, None)[0]

    def batch(
        self,
        frames: Sequence[np.ndarray],
        *,
        persist: bool = True,
        channels: Channels | None = None,
    ) -> list[FrameResult]:
        """Segment consecutive frames in one inference call; IDs follow them in order."""
        with self._lock:
            self._check_open()
            if not persist:
                self.reset()
            start = self._frames_seen
            now = time.time()
            indices = list(range(start, start + len(frames)))
            return self._run(
                list(frames), indices, [now] * len(frames), channels or self.channels, None
            )

    def stream(
        self,
        source: object,
        *,
        persist: bool = False,
        stride: int = 1,
        max_fps: float | None = None,
        channels: Channels | None = None,
        live: bool | None = None,
        timeout_s: float = SOURCE_TIMEOUT_S,
        reconnect: Reconnect | None = None,
    ) -> Iterator[FrameResult]:
        """Results for every frame of a source (see sdk.sources); new IDs unless persist=True.

        stride: take every stride-th frame. max_fps: at most this many frames a second
        (a file is slowed down; a live source drops more).
        """
        self._check_open()
        if max_fps is not None and max_fps <= 0:
            raise ValueError(f"max_fps is {max_fps}; it must be positive.")
        if not persist:
            self.reset()
        order = channels or self.channels
        frames = open_source(
            source, stride=stride, live=live, timeout_s=timeout_s, reconnect=reconnect
        )
        with frames:
            next_due = time.perf_counter()
            for item in frames:
                if max_fps:
                    wait = next_due - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                    next_due = max(next_due, time.perf_counter() - 1.0 / max_fps) + 1.0 / max_fps
                with self._lock:
                    self._check_open()
                    result = self._run(
                        [item.image], [item.index], [item.timestamp], order, frames.description
                    )[0]
                yield result

    def prepare(
        self, frames: Sequence[np.ndarray], channels: Channels | None = None
    ) -> PreparedFrames:
        """Stage 1 of 3: checks and resizes frames into one model input batch.

        `prepare`, `infer` and `finish` are what `__call__` does in one go; the
        `astseg run` pipeline runs them on three threads so that decoding and
        resizing, the model, and mapping masks back + tracking overlap.
        """
        self._check_open()
        order = channels or self.channels
        t0 = time.perf_counter()
        checked = [check_frame(f) for f in frames]
        spec = self.spec
        inputs = np.stack(
            [to_model_input(f, spec.image_height, spec.image_width, order) for f in checked]
        )
        background_inputs = None
        bg = self.bundle.manifest.background
        if self.masks_from != "slots" and bg is not None:
            background_inputs = np.stack(
                [to_model_input(f, bg.image_height, bg.image_width, order) for f in checked]
            )
        pre_ms = (time.perf_counter() - t0) * 1000 / max(1, len(checked))
        return PreparedFrames(checked, inputs, order, pre_ms, background_inputs)

    def infer(self, prepared: PreparedFrames) -> InferredFrames:
        """Stage 2 of 3: runs the model on a prepared batch (the only backend call)."""
        self._check_open()
        t0 = time.perf_counter()
        output = None if self.masks_from == "background" else self.backend.run(prepared.inputs)
        t1 = time.perf_counter()
        background = None
        if prepared.background_inputs is not None:
            background = self._backgrounds(prepared.background_inputs)
        frames = max(1, len(prepared.frames))
        infer_ms = (t1 - t0) * 1000 / frames
        background_ms = (time.perf_counter() - t1) * 1000 / frames
        return InferredFrames(prepared, output, infer_ms, background, background_ms)

    def _backgrounds(self, images: np.ndarray) -> BackgroundOutput:
        """The background graph on the frames that need a fresh background; the others reuse
        the last one computed (sdk.fixed_camera.background_refresh)."""
        fresh = np.array([self._refresh.needs(image) for image in images])
        computed = self.backend.run_background(images[fresh]) if fresh.any() else None
        backgrounds, noises, k = [], [], 0
        for is_fresh in fresh:
            if is_fresh:
                assert computed is not None
                self._last_background = (computed.background[k], computed.noise[k])
                k += 1
            assert self._last_background is not None  # a stream's first frame is fresh
            backgrounds.append(self._last_background[0])
            noises.append(self._last_background[1])
        return BackgroundOutput(np.stack(backgrounds), np.stack(noises))

    def finish(
        self,
        inferred: InferredFrames,
        indices: Sequence[int],
        stamps: Sequence[float],
        source: str | None = None,
    ) -> list[FrameResult]:
        """Stage 3 of 3: masks at frame resolution, scores, tracking; results in order."""
        if inferred.background is not None and inferred.prepared.background_inputs is not None:
            tracks = self._objects if self.track else None
            detector = self._detector() if self.track else None
            results = [
                fixed_camera_result(
                    inferred,
                    i,
                    indices[i],
                    stamps[i],
                    source,
                    mode=self.masks_from,
                    manifest=self.bundle.manifest,
                    options=self.options,
                    tracks=tracks,
                    detector=detector,
                )
                for i in range(len(inferred.prepared.frames))
            ]
        elif inferred.output is None:
            raise ValueError("these frames were inferred without the slot model; infer() again.")
        else:
            results = [
                self._result(inferred, i, indices[i], stamps[i], source)
                for i in range(len(inferred.prepared.frames))
            ]
        if results:
            self._frames_seen = max(self._frames_seen, indices[-1] + 1)
        return results

    def _run(
        self,
        frames: list[np.ndarray],
        indices: list[int],
        stamps: list[float],
        channels: Channels,
        source: str | None,
    ) -> list[FrameResult]:
        if not frames:
            return []
        return self.finish(self.infer(self.prepare(frames, channels)), indices, stamps, source)

    def _result(
        self, inferred: InferredFrames, i: int, index: int, stamp: float, source: str | None
    ) -> FrameResult:
        """One frame's FrameResult from the slot model alone (slot mode)."""
        t0 = time.perf_counter()
        output, frame = inferred.output, inferred.prepared.frames[i]
        assert output is not None  # finish() sends frames without slot outputs elsewhere
        height, width = frame.shape[:2]
        labels = frame_labels(output.weights[i], output.segmentation[i], height, width)
        log_bg = self.spec.log_background_activation
        scale = output.scale[i]
        kept = []
        for region in slot_regions(labels, self.spec.num_slots, self.min_area):
            score = 1.0 / (1.0 + math.exp(-(float(output.log_activation[i, region.slot]) - log_bg)))
            if score >= self.min_score:
                kept.append((region, score))
        t1 = time.perf_counter()
        if self.track:
            observations = [
                Observation(
                    position=output.position[i, r.slot].astype(np.float64),
                    size=2.0 / np.maximum(scale[r.slot].astype(np.float64), 1e-6),
                    appearance=output.z_what[i, r.slot].astype(np.float64),
                )
                for r, _ in kept
            ]
            ids = self.tracker.update(observations)
        else:
            ids = [r.slot + 1 for r, _ in kept]
        t2 = time.perf_counter()
        objects = []
        for (region, score), track_id in zip(kept, ids, strict=True):
            s = scale[region.slot]
            objects.append(
                DetectedObject(
                    id=track_id,
                    slot=region.slot,
                    bbox=region.bbox,
                    centroid=region.centroid,
                    scale=(width / float(s[0]), height / float(s[-1])),
                    score=score,
                    area=region.area,
                    z_what=output.z_what[i, region.slot].copy(),
                    slot_labels=region.labels,
                )
            )
        return FrameResult(
            index=index,
            timestamp=stamp,
            frame_shape=(height, width),
            objects=objects,
            timings=Timings(
                inferred.prepared.pre_ms, inferred.infer_ms, (t1 - t0) * 1000, (t2 - t1) * 1000
            ),
            slot_labels=labels.labels,
            image=frame,
            channels=inferred.prepared.channels,
            source=source,
        )

    def close(self) -> None:
        """Free the backend's sessions and GPU memory (after a call in progress ends);
        later calls are refused with one sentence. Safe to call twice."""
        with self._lock:
            self._closed = True
            self.backend.close()

    def __enter__(self) -> Segmenter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
