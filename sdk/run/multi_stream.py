"""Several sources on one box at once: one `Segmenter` and one `astseg run` pipeline per stream.

    from sdk.run.multi_stream import Stream, run_streams
    from sdk.outputs.outputs import OutputOptions
    reports = run_streams(
        [Stream("cam1.mp4", OutputOptions(out=Path("cam1.out.mp4"))), Stream("rtsp://cam2/live")],
        model="bundle.zip",
    )
    for report in reports:
        print(report.line())           # per-stream FPS, frames, drops, stage times

Each stream gets its own Segmenter (so its own tracker: IDs never mix between
cameras) and its own pipeline threads (decode, inference, output), all running
together, so cameras share the cores the way they would on an edge box. Inference
defaults to one thread per stream: the streams themselves keep the cores busy, and
more threads per session only make them compete. A stream that fails (a camera that
does not open, a full disk) is reported with its sentence; the others run on. Ctrl-C
stops every stream and finishes every output under its final name.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sdk.errors import AstsegError
from sdk.options import DEFAULTS, SegmenterOptions
from sdk.outputs.outputs import OutputOptions
from sdk.run.options import RunOptions
from sdk.run.pipeline import Pipeline, RunSummary
from sdk.segmenter import Segmenter
from sdk.sources.sources import SOURCE_TIMEOUT_S


@dataclass(frozen=True)
class Stream:
    """One source and what to write for it."""

    source: object  # anything `Segmenter.stream` accepts: path, camera index, URL, FrameSource
    outputs: OutputOptions = field(default_factory=OutputOptions)
    name: str | None = None  # how reports name it (default: the source's own description)


@dataclass
class StreamReport:
    """How one stream went: its run summary, or the sentence that stopped it."""

    name: str
    summary: RunSummary | None = None
    error: str | None = None

    @property
    def fps(self) -> float:
        return self.summary.fps if self.summary is not None else 0.0

    def line(self) -> str:
        if self.summary is None:
            return f"{self.name}: failed: {self.error}"
        text = f"{self.name}: {self.summary.line()}"
        return text if self.error is None else f"{text}; then failed: {self.error}"


def run_streams(
    streams: Sequence[Stream],
    model: str | os.PathLike[str] | None = None,
    *,
    backend: str = DEFAULTS.backend,
    device: str | int = DEFAULTS.device,
    threads: int = 1,
    max_fps: float | None = None,
    min_score: float = DEFAULTS.min_score,
    min_area: int = DEFAULTS.min_area,
    timeout_s: float = SOURCE_TIMEOUT_S,
) -> list[StreamReport]:
    """Run every stream at once until each ends (or Ctrl-C); one report per stream, in order.

    threads: inference threads per stream. max_fps: pace every stream (a file is slowed
    down to a camera's rate; a live source drops more).
    """
    if not streams:
        raise ValueError("run_streams needs at least one stream.")
    if threads < 1:
        raise ValueError(f"threads is {threads}; it must be 1 or more.")
    _check_outputs(streams)
    segmenter = SegmenterOptions(
        backend=backend, device=device, min_score=min_score, min_area=min_area, threads=threads
    )
    run = RunOptions(segmenter, max_fps=max_fps, progress=False, timeout_s=timeout_s)
    reports = [StreamReport(s.name or str(s.source)) for s in streams]
    segmenters: list[Segmenter] = []
    pipelines: list[Pipeline | None] = []
    try:
        for _ in streams:  # one bundle for all: if it cannot load, no stream starts
            segmenters.append(Segmenter.from_options(model, segmenter))
        for stream, seg, report in zip(streams, segmenters, reports, strict=True):
            try:
                pipeline = Pipeline(seg, stream.source, replace(run, outputs=stream.outputs))
            except (AstsegError, ValueError) as err:  # this source only: the others still run
                report.error = str(err)
                pipelines.append(None)
                continue
            pipelines.append(pipeline)
            if stream.name is None:
                report.name = pipeline.frames.description
        _run_together(pipelines, reports)
    except BaseException:
        for opened in pipelines:  # sources opened for runs that never started
            if opened is not None:
                opened.frames.close()
        raise
    finally:
        for seg in segmenters:
            seg.close()
    return reports


def _check_outputs(streams: Sequence[Stream]) -> None:
    """Refuse what several streams cannot share: one window, or one output file or folder."""
    owner: dict[Path, int] = {}
    for i, stream in enumerate(streams, start=1):
        if stream.outputs.show:
            raise ValueError(
                f"stream {i} asks for a window (show); several streams cannot share one, so "
                "write each stream's video (out) instead."
            )
        for path in (stream.outputs.out, stream.outputs.json, stream.outputs.masks):
            if path is None:
                continue
            key = Path(os.path.abspath(path))
            if key in owner:
                raise ValueError(
                    f"streams {owner[key]} and {i} would both write {path}; give each stream "
                    "its own output files."
                )
            owner[key] = i


def _run_together(pipelines: Sequence[Pipeline | None], reports: list[StreamReport]) -> None:
    def run(i: int, pipeline: Pipeline) -> None:
        try:
            reports[i].summary = pipeline.run()
        except (AstsegError, ValueError, OSError) as err:
            reports[i].error = str(err)

    workers = [
        threading.Thread(target=run, args=(i, p), name=f"astseg-stream-{i}", daemon=True)
        for i, p in enumerate(pipelines)
        if p is not None
    ]
    for worker in workers:
        worker.start()
    try:
        while any(worker.is_alive() for worker in workers):
            time.sleep(0.1)
    except KeyboardInterrupt:
        for pipeline in pipelines:
            if pipeline is not None:
                pipeline.stop.set()  # each pipeline then finishes its outputs
        for worker in workers:
            worker.join(timeout=30)
        for report in reports:
            if report.summary is not None:
                report.summary.interrupted = True
