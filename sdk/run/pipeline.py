"""`astseg run`: decode, inference and output in separate threads joined by bounded queues.

    decode thread  ->  [queue]  ->  inference thread  ->  [queue]  ->  main thread
    (file sources)                  (Segmenter)                      (draw, write, show, progress)

Bounded queues keep memory flat on long videos and let the stages overlap. A
file source blocks when inference falls behind, so no frame is dropped; a live
source is read by its own thread that keeps only the newest frame, so the
inference thread always takes the most recent one and latency stays bounded
(drops are counted). Ctrl-C, SIGTERM and SIGHUP stop the stages after the frame in hand,
and every output is finished under its final name, so the video plays; the summary then
says the run was interrupted and by which signal (sdk/run/stop_signals.py).
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from sdk.errors import AstsegError, SourceError
from sdk.fixed_camera.fit_monitor import FitMonitor
from sdk.outputs.outputs import RunOutputs
from sdk.results import FrameResult, PreparedFrames
from sdk.run.options import RunOptions
from sdk.run.stop_signals import StopSignals, signal_name, signum_of
from sdk.segmenter import Segmenter
from sdk.sources.frame_source import FrameSource, SourceFrame
from sdk.sources.sources import open_source

log = logging.getLogger("astseg")

STAGES = ("decode", "pre", "infer", "background", "post", "track", "draw", "encode")
_END = object()


@dataclass
class StageTimes:
    """Mean milliseconds per frame for each stage (benchmarks read these)."""

    totals: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))

    def add(self, stage: str, ms: float) -> None:
        self.totals[stage] += ms
        self.counts[stage] += 1

    def means(self) -> dict[str, float]:
        return {s: round(self.totals[s] / self.counts[s], 3) for s in STAGES if self.counts[s]}


@dataclass
class RunSummary:
    """What a run did; `line()` is the closing message of `astseg run`."""

    source: str
    backend: str
    frames: int = 0
    seconds: float = 0.0
    dropped: int = 0
    skipped: int = 0
    skipped_files: list[str] = field(default_factory=list)  # unreadable images, by name
    ended_early: str | None = None  # a file that ended before the frames it declares
    interrupted: bool = False
    signal: int | None = None  # the stop signal's number when interrupted by one
    stages_ms: dict[str, float] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    objects: str = ""  # what the frames held, e.g. "2.10 objects per frame ..., 5 distinct IDs"

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        how = "processed"
        if self.interrupted:
            by = f" by {signal_name(self.signal)}" if self.signal else ""
            how = f"interrupted{by} after"
        text = f"{how} {self.frames} frames in {self.seconds:.1f} s ({self.fps:.1f} FPS)"
        if self.dropped:
            text += f", dropped {self.dropped} live frames"
        if self.skipped:
            text += f", skipped {self.skipped} unreadable frames"
            text += f" ({_named(self.skipped_files)})" if self.skipped_files else ""
        text += f"; the input {self.ended_early}" if self.ended_early else ""
        stages = ", ".join(f"{k} {v:.1f}" for k, v in self.stages_ms.items())
        text += f"; ms/frame: {stages}" if stages else ""
        text += f"; {self.objects}" if self.objects else ""
        if self.outputs:
            text += "; wrote " + ", ".join(self.outputs)
        return text


def _named(files: list[str], most: int = 3) -> str:
    """`a.png, b.png, c.png and 4 more`: the summary names what it skipped, briefly."""
    shown = ", ".join(files[:most])
    return shown + (f" and {len(files) - most} more" if len(files) > most else "")


def _put(q: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


class _Pacer:
    """Sleeps so that at most `max_fps` frames a second pass."""

    def __init__(self, max_fps: float | None) -> None:
        self.period = 1.0 / max_fps if max_fps else 0.0
        self.due = time.perf_counter()

    def wait(self, stop: threading.Event) -> None:
        if not self.period:
            return
        delay = self.due - time.perf_counter()
        if delay > 0:
            stop.wait(delay)
        self.due = max(self.due, time.perf_counter() - self.period) + self.period


class Pipeline:
    """One run of a Segmenter over a source into outputs; use `run()` once."""

    def __init__(self, seg: Segmenter, source: object, options: RunOptions) -> None:
        if options.max_fps is not None and options.max_fps <= 0:
            raise ValueError(f"--max-fps is {options.max_fps}; it must be positive.")
        self.seg = seg
        self.options = options
        self.frames: FrameSource = open_source(
            source, stride=options.stride, timeout_s=options.timeout_s
        )
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.times = StageTimes()
        self.fit = FitMonitor()  # says once when the foreground is mostly the model's failure
        self._lock = threading.Lock()
        self._decoded: queue.Queue[Any] = queue.Queue(maxsize=8)
        # Live: one waiting result, so what is shown lags the camera by as little as possible.
        self._results: queue.Queue[Any] = queue.Queue(maxsize=1 if self.frames.live else 4)
        self._stops = StopSignals()
        self._threads: dict[str, threading.Thread] = {}
        self._at_once = False  # a second stop signal: abort the outputs, do not finish them

    def _fail(self, err: BaseException) -> None:
        with self._lock:
            self.errors.append(err)
        self.stop.set()

    def _decode_loop(self) -> None:
        pacer = _Pacer(self.options.max_fps)
        try:
            iterator = iter(self.frames)
            while not self.stop.is_set():
                t0 = time.perf_counter()
                item = next(iterator, None)
                if item is None:
                    break
                with self._lock:
                    self.times.add("decode", (time.perf_counter() - t0) * 1000)
                prepared = self.seg.prepare([item.image])
                pacer.wait(self.stop)
                if not _put(self._decoded, (item, prepared), self.stop):
                    return
        except BaseException as err:  # any death is passed on: the run must not wait forever
            self._fail(err)
        finally:
            _put(self._decoded, _END, self.stop)

    def _queued_frames(self) -> Iterator[tuple[SourceFrame, PreparedFrames]]:
        while not self.stop.is_set():
            try:
                item = self._decoded.get(timeout=0.1)
            except queue.Empty:
                self._watch("astseg-decode")
                continue
            if item is _END:
                return
            yield item

    def _live_frames(self) -> Iterator[tuple[SourceFrame, PreparedFrames]]:
        pacer = _Pacer(self.options.max_fps)
        for item in self.frames:
            if self.stop.is_set():
                return
            # Live: prepared here, right before inference, so the newest frame is used.
            yield item, self.seg.prepare([item.image])
            pacer.wait(self.stop)

    def _infer_loop(self) -> None:
        """Only the model runs on this thread: resizing happens on the decode thread and
        mapping masks back + tracking on the output thread, so the three overlap."""
        frames = self._live_frames() if self.frames.live else self._queued_frames()
        try:
            for item, prepared in frames:
                if not _put(self._results, (item, self.seg.infer(prepared)), self.stop):
                    return
        except BaseException as err:  # any death is passed on: the run must not wait forever
            self._fail(err)
        finally:
            _put(self._results, _END, self.stop)

    def _watch(self, name: str) -> None:
        """The watchdog: a producer thread gone without its end marker (it cannot happen
        through the loops above, but a run must never wait for it) stops the run."""
        thread = self._threads.get(name)
        if thread is not None and not thread.is_alive() and not self.stop.is_set():
            self._fail(
                AstsegError(f"astseg's {name} thread stopped without a word; this is a bug.")
            )

    def _consume(self, outputs: RunOutputs, bar: tqdm[Any], summary: RunSummary) -> None:
        started = time.perf_counter()
        last_postfix = 0.0
        while True:
            try:
                item = self._results.get(timeout=0.1)
            except queue.Empty:
                if self.stop.is_set() or self._stops.requested:
                    return
                self._watch("astseg-infer")
                continue
            if item is _END:
                return
            frame, inferred = item
            result = self.seg.finish(
                inferred, [frame.index], [frame.timestamp], self.frames.description
            )[0]
            self._record(result)
            warning = self.fit.update(result.foreground)
            if warning is not None:
                bar.write(warning, file=sys.stderr)
            if self.options.on_result is not None:
                self.options.on_result(result, frame.image)
            draw_ms, encode_ms = outputs.write(result, frame.name)
            self.times.add("draw", draw_ms)
            self.times.add("encode", encode_ms)
            summary.frames += 1
            summary.seconds = time.perf_counter() - started
            bar.update(1)
            if self.frames.live and time.perf_counter() - last_postfix > 0.5:
                bar.set_postfix(dropped=self.frames.dropped, refresh=False)
                last_postfix = time.perf_counter()
            if outputs.stop_requested or self._stops.requested:
                return  # a stop signal takes effect between frames, never inside one

    def _record(self, result: FrameResult) -> None:
        t = result.timings
        with self._lock:
            for stage, ms in (
                ("pre", t.pre_ms),
                ("infer", t.infer_ms),
                ("post", t.post_ms),
                ("track", t.track_ms),
            ):
                self.times.add(stage, ms)
            if self.seg.masks_from != "slots":  # the background graph, in fixed-camera modes
                self.times.add("background", t.background_ms)

    def run(self) -> RunSummary:
        """Process the whole source (or until a stop signal); raise the first stage error."""
        with self._stops:  # from before the first output is opened to after the last closes
            return self._run()

    def _run(self) -> RunSummary:
        summary = RunSummary(source=self.frames.description, backend=self.seg.backend_description)
        self.seg.reset()  # a run numbers its objects from 1, like a fresh stream
        try:
            outputs = RunOutputs(
                self.options.outputs, self.frames.fps, frame_size=self.frames.frame_size
            )
        except BaseException:
            self.frames.close()
            raise
        threads = [threading.Thread(target=self._infer_loop, name="astseg-infer", daemon=True)]
        if not self.frames.live:
            threads.append(
                threading.Thread(target=self._decode_loop, name="astseg-decode", daemon=True)
            )
        self._threads = {thread.name: thread for thread in threads}
        bar = tqdm(
            total=self.frames.total,
            unit="frame",
            desc="astseg",
            file=sys.stderr,
            disable=not self.options.progress,
            dynamic_ncols=True,
        )
        for thread in threads:
            thread.start()
        try:
            self._consume(outputs, bar, summary)
        except KeyboardInterrupt as err:
            # after a first signal (checked between frames), the handler raises on the second,
            # e.g. while a write to a stalled pipe blocks: stop at once, finishing nothing
            self._at_once = self._stops.requested
            self._stops.request(signum_of(err))
        except BaseException as err:
            self._fail(err)
        finally:
            try:
                self._shutdown(threads, outputs, bar, summary)
            except KeyboardInterrupt as err:  # a second signal while finishing: at once, too
                self._stops.request(signum_of(err))
                outputs.abort()
        summary.interrupted = self._stops.requested
        summary.signal = self._stops.signum
        if self.errors:
            raise self.errors[0]
        return summary

    def _shutdown(
        self,
        threads: list[threading.Thread],
        outputs: RunOutputs,
        bar: tqdm[Any],
        summary: RunSummary,
    ) -> None:
        self.stop.set()
        if self.frames.live:  # wakes the inference thread if the stream has stalled
            self.frames.close()
        for thread in threads:
            thread.join(timeout=30)
        self.frames.close()  # a file is closed only after its decode thread has stopped
        bar.close()
        summary.dropped = self.frames.dropped
        summary.skipped = self.frames.skipped
        summary.skipped_files = list(self.frames.skipped_files)
        summary.ended_early = self.frames.ended_early
        summary.stages_ms = self.times.means()
        if self._at_once or (self.errors and not self._stream_lost(summary)):
            outputs.abort()  # a failed run publishes nothing: no video, no JSON, no empty folder
        else:
            summary.outputs = outputs.finish()

    def _stream_lost(self, summary: RunSummary) -> bool:
        """A live source lost for good after delivering frames is how a live run ends: what
        it recorded is sound and is finished (the loss is still raised)."""
        live_loss = all(isinstance(e, SourceError) for e in self.errors)
        return self.frames.live and live_loss and summary.frames > 0


def run_pipeline(seg: Segmenter, source: object, options: RunOptions | None = None) -> RunSummary:
    """Segment `source` into the outputs in `options`; see the module docstring."""
    return Pipeline(seg, source, options or RunOptions()).run()
