"""How many cameras one box keeps up with: N paced camera streams at once, no frame dropped.

A `PacedCamera` stands in for an IP camera: from its first read it decodes a clip in real
time at a fixed rate (looping the clip), and keeps only the newest frame, counting every
frame replaced before the runtime took it, exactly as the runtime's own live sources
(sdk.sources.live) do. The first second is a warm-up (the first inferences and the video
encoder's start are slow once); frames dropped then are reported apart.
`streams_at_rate` runs 1, 2, 3, ... such cameras together through
`sdk.run.multi_stream.run_streams` (one Segmenter and one `astseg run` pipeline each, with an
annotated video and JSON lines per stream) and returns the largest N for which every
stream processed every frame its camera produced.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for sdk

from sdk.sources.frame_source import FrameSource, SourceFrame  # noqa: E402


class PacedCamera(FrameSource):
    """`count` frames of `clip` at `fps`, in real time, newest frame wins (see module doc)."""

    live = True

    def __init__(
        self, clip: Path, fps: float, count: int, warmup: int = 0, name: str = "camera"
    ) -> None:
        self.description = name
        self.fps = fps
        self.total = warmup + count
        self.warmup = warmup
        self.dropped_in_warmup = 0
        self._clip, self._count = clip, warmup + count
        self._cond = threading.Condition()
        self._latest: SourceFrame | None = None
        self._ended = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _produce(self) -> None:
        capture = cv2.VideoCapture(str(self._clip))
        start = time.perf_counter()
        try:
            for index in range(self._count):
                if self._stop.wait(max(0.0, start + index / self.fps - time.perf_counter())):
                    break
                ok, image = capture.read()
                if not ok:  # the clip ended: the camera goes on from its first frame
                    capture.release()
                    capture = cv2.VideoCapture(str(self._clip))
                    ok, image = capture.read()
                if not ok or image is None:
                    break
                with self._cond:
                    if self._latest is not None and self._latest.index < self.warmup:
                        self.dropped_in_warmup += 1
                    elif self._latest is not None:
                        self.dropped += 1
                    self._latest = SourceFrame(index, time.time(), image)
                    self._cond.notify_all()
        finally:
            capture.release()
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def __iter__(self) -> Iterator[SourceFrame]:
        if self._thread is None:  # the camera starts when the runtime first asks for a frame
            self._thread = threading.Thread(target=self._produce, daemon=True)
            self._thread.start()
        while True:
            with self._cond:
                while self._latest is None and not self._ended:
                    self._cond.wait(timeout=0.5)
                if self._latest is None:
                    return
                frame, self._latest = self._latest, None
            yield frame

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)


def run_cameras(
    clip: Path, bundle: str, work: Path, streams: int, fps: float, seconds: float
) -> dict[str, Any]:
    """`streams` paced cameras at once, each writing an annotated MP4 and JSON lines; one
    second of warm-up, then `seconds` that count."""
    from sdk.outputs.outputs import OutputOptions
    from sdk.run.multi_stream import Stream, run_streams

    count, warmup = max(2, round(fps * seconds)), max(1, round(fps))
    cameras = [PacedCamera(clip, fps, count, warmup, f"camera {i + 1}") for i in range(streams)]
    specs = [
        Stream(
            camera,
            OutputOptions(out=work / f"cam{i}.mp4", json=work / f"cam{i}.jsonl"),
            name=camera.description,
        )
        for i, camera in enumerate(cameras)
    ]
    reports = run_streams(specs, bundle)
    per_stream = []
    for camera, report in zip(cameras, reports, strict=True):
        summary = report.summary
        per_stream.append(
            {
                "name": report.name,
                "offered": count,
                "warmup_frames": warmup,
                "processed": summary.frames if summary else 0,
                "dropped": camera.dropped,
                "dropped_in_warmup": camera.dropped_in_warmup,
                "fps": round(report.fps, 2),
                "stages_ms": summary.stages_ms if summary else {},
                "error": report.error,
            }
        )
    # every frame after the warm-up taken (the last one always is: nothing replaces it)
    kept_up = all(s["error"] is None and s["dropped"] == 0 for s in per_stream)
    return {
        "streams": streams,
        "kept_up": kept_up,
        "min_fps": min(s["fps"] for s in per_stream),
        "dropped": sum(s["dropped"] for s in per_stream),
        "per_stream": per_stream,
    }


def streams_at_rate(
    clip: Path, bundle: str, work: Path, fps: float, seconds: float, max_streams: int
) -> dict[str, Any]:
    """Add one camera at a time until a stream drops a frame (or `max_streams` keep up)."""
    trials = []
    sustained = 0
    for n in range(1, max_streams + 1):
        folder = work / f"streams{n}"
        folder.mkdir(parents=True, exist_ok=True)
        trial = run_cameras(clip, bundle, folder, n, fps, seconds)
        trials.append(trial)
        shown = ", ".join(f"{s['fps']:.1f}" for s in trial["per_stream"])
        print(
            f"{n} camera(s) at {fps:g} FPS: "
            + ("kept up" if trial["kept_up"] else f"fell behind ({trial['dropped']} dropped)")
            + f"; FPS per stream: {shown}"
        )
        if not trial["kept_up"]:
            break
        sustained = n
    return {
        "fps": fps,
        "seconds_per_trial": seconds,
        "max_streams_tried": max_streams,
        "sustained": sustained,
        "capped": sustained == max_streams,
        "trials": trials,
    }
