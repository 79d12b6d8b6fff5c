"""A live source that stalls, drops its connection and comes back at another resolution.

The consumer (`Segmenter.stream`, and the `astseg run` pipeline) is slower than the camera:
it must always get a fresh frame (latency bounded, old frames dropped and counted), wait out
the stall without delivering stale frames, and carry on after the reconnect.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from sdk import Reconnect, Segmenter, SourceError
from sdk.outputs.outputs import OutputOptions, RunOutputs
from sdk.run.options import RunOptions
from sdk.run.pipeline import run_pipeline
from sdk.sources.live import LiveSource

FRAMES_PER_CONNECTION = 150
CAMERA_PERIOD_S = 0.004  # a 250 fps camera
CONSUMER_PERIOD_S = 0.02  # a consumer that handles 50 frames a second at most
STALL_S = 0.8
LATENCY_BOUND_S = 0.25  # a queue of 150 stale frames would be 3 s behind


class StallingCamera:
    """Delivers frames of one size, then blocks in read() for `stall` seconds and fails,
    like a network stream whose connection hangs and then drops."""

    def __init__(self, size: tuple[int, int], stall: float) -> None:
        self.size, self.stall = size, stall
        self.left = FRAMES_PER_CONNECTION
        self.stalled_until: float | None = None

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.left <= 0:
            if self.stalled_until is None:
                time.sleep(self.stall)
                self.stalled_until = time.time()
            return False, None
        time.sleep(CAMERA_PERIOD_S)
        self.left -= 1
        frame = np.full((*self.size, 3), 40, np.uint8)
        x = 10 + (FRAMES_PER_CONNECTION - self.left) % (self.size[1] - 20)
        cv2.circle(frame, (x, self.size[0] // 2), 8, (0, 0, 255), -1)
        return True, frame

    def release(self) -> None:
        pass


class NoCamera(StallingCamera):
    def isOpened(self) -> bool:  # noqa: N802
        return False


def _flaky_stream() -> tuple[LiveSource, StallingCamera]:
    """96x128, a hang and a drop, one failed reopen, then 72x96, then gone for good."""
    first = StallingCamera((96, 128), STALL_S)
    openers = iter([first, NoCamera((1, 1), 0), StallingCamera((72, 96), 0.0)])
    source = LiveSource(
        lambda: next(openers, NoCamera((1, 1), 0)),
        "rtsp://camera.local/live",
        "rtsp://camera.local/live did not open",
        Reconnect(first_delay=0.05, max_delay=0.1, max_attempts=3),
    )
    return source, first


def _check(
    seen: list[tuple[float, float, tuple[int, int]]],
    source: LiveSource,
    first: StallingCamera,
    queued: int,
) -> None:
    """`seen`: (capture time, delivery time, frame size) of every frame the consumer got;
    `queued`: results the consumer may have waiting for it (the pipeline's output queue)."""
    latencies = [delivered - captured for captured, delivered, _ in seen]
    assert max(latencies) < LATENCY_BOUND_S, max(latencies)
    typical = (queued + 1.5) * CONSUMER_PERIOD_S  # waiting results + the one in hand
    assert statistics.median(latencies) < typical, (statistics.median(latencies), typical)
    sizes = [size for _, _, size in seen]
    assert sizes[0] == (96, 128) and sizes[-1] == (72, 96)  # it recovered at the new size
    assert sizes == sorted(sizes, reverse=True)  # never a frame from before the drop, after it
    assert source.reconnects == 1
    assert source.dropped > FRAMES_PER_CONNECTION  # most of the 300 frames were skipped ...
    assert len(seen) + source.dropped == 2 * FRAMES_PER_CONNECTION  # ... and counted
    assert first.stalled_until is not None
    after = [captured for captured, _, size in seen if size == (72, 96)]
    assert min(after) >= first.stalled_until  # nothing stale was handed out after the stall


def test_segmenter_stream_rides_out_a_stall_and_a_reconnect(toy_bundle: Path) -> None:
    source, first = _flaky_stream()
    seen: list[tuple[float, float, tuple[int, int]]] = []
    seg = Segmenter(toy_bundle, threads=1)
    with pytest.raises(SourceError, match=r"was lost and did not come back after 3 attempts"):
        for result in seg.stream(source):
            seen.append((result.timestamp, time.time(), result.frame_shape))
            time.sleep(CONSUMER_PERIOD_S)
    _check(seen, source, first, queued=0)


def test_astseg_run_rides_out_a_stall_and_a_reconnect(
    toy_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, first = _flaky_stream()
    seen: list[tuple[float, float, tuple[int, int]]] = []
    write: Callable[..., Any] = RunOutputs.write

    def slow_write(self: RunOutputs, result: Any, name: str | None = None) -> Any:
        seen.append((result.timestamp, time.time(), result.frame_shape))
        time.sleep(CONSUMER_PERIOD_S)
        return write(self, result, name)

    monkeypatch.setattr(RunOutputs, "write", slow_write)
    lines = tmp_path / "live.jsonl"
    options = RunOptions(outputs=OutputOptions(json=lines), progress=False)
    with pytest.raises(SourceError, match=r"was lost and did not come back after 3 attempts"):
        run_pipeline(Segmenter(toy_bundle, threads=1), source, options)
    # inference runs ahead of the slow output stage by the results queue (4 deep), no further
    # One waiting result (live queue) + the frame the output thread is finishing.
    _check(seen, source, first, queued=2)
    records = lines.read_text().splitlines()  # finished under its final name
    assert len(records) == len(seen)
