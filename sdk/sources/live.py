"""Cameras and network streams: newest frame wins, and a lost stream is reopened with back-off.

A reader thread pulls frames as fast as the device delivers them and keeps only
the newest; the consumer always gets the most recent frame, so latency cannot
build up when inference is slower than the camera. Every frame replaced before
it was taken is counted in `dropped`. When a read fails the device is reopened
after 0.5 s, 1 s, 2 s ... (at most `max_delay`), with one status line per
attempt; frames after a reconnect may have another size, which the rest of the
runtime accepts frame by frame.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sdk.errors import SourceError
from sdk.sources.frame_source import FrameSource, SourceFrame
from sdk.sources.quiet import quiet_native_stderr

log = logging.getLogger("astseg")


class Capture(Protocol):
    """The part of cv2.VideoCapture a live source uses."""

    def isOpened(self) -> bool: ...  # noqa: N802 (OpenCV's name)

    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def release(self) -> None: ...


@dataclass(frozen=True)
class Reconnect:
    """Back-off for reopening a lost live source."""

    first_delay: float = 0.5
    max_delay: float = 10.0
    max_attempts: int | None = None  # None: keep trying until stopped

    def delays(self) -> Iterator[float]:
        delay, attempt = self.first_delay, 0
        while self.max_attempts is None or attempt < self.max_attempts:
            yield delay
            attempt += 1
            delay = min(self.max_delay, delay * 2)


class LiveSource(FrameSource):
    """Frames from a camera or stream through a reader thread (see module docstring)."""

    live = True

    def __init__(
        self,
        opener: Callable[[], Capture],
        description: str,
        open_failure: str | Callable[[], str],
        reconnect: Reconnect | None = None,
        stride: int = 1,
        fps: float | None = None,
    ) -> None:
        self.description = description
        self._opener = opener
        self._reconnect = reconnect or Reconnect()
        self._stride = max(1, stride)
        self.fps = fps
        self.reconnects = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._latest: SourceFrame | None = None
        self._error: SourceError | None = None
        self._count = 0
        self._capture = self._open()
        if self._capture is None:
            raise SourceError(open_failure if isinstance(open_failure, str) else open_failure())
        self._thread = threading.Thread(
            target=self._read_loop, name="astseg-live-reader", daemon=True
        )
        self._thread.start()

    def _open(self) -> Capture | None:
        """A capture that delivered a first frame, or None."""
        with quiet_native_stderr():
            capture = self._opener()
            if not capture.isOpened():
                capture.release()
                return None
            ok, frame = capture.read()
        if not ok or frame is None:
            capture.release()
            return None
        self._publish(frame)
        return capture

    def _publish(self, frame: np.ndarray) -> None:
        with self._cond:
            if self._latest is not None:
                self.dropped += 1
            self._latest = SourceFrame(self._count, time.time(), frame)
            self._count += 1
            self._cond.notify_all()

    def _read_loop(self) -> None:
        try:
            self._read_frames()
        except Exception as err:  # a driver or opener failure must end the stream, not hang it
            with self._cond:
                self._error = SourceError(f"{self.description} failed while reading: {err}.")
                self._cond.notify_all()

    def _read_frames(self) -> None:
        capture = self._capture
        while not self._stop.is_set():
            ok, frame = capture.read() if capture is not None else (False, None)
            if ok and frame is not None:
                self._publish(frame)
                continue
            if capture is not None:
                capture.release()
            capture = self._reopen()
            self._capture = capture
            if capture is None:
                return

    def _reopen(self) -> Capture | None:
        for attempt, delay in enumerate(self._reconnect.delays(), start=1):
            log.warning(
                "astseg: %s lost; reconnecting in %.1f s (attempt %d)",
                self.description,
                delay,
                attempt,
            )
            if self._stop.wait(delay):
                return None
            capture = self._open()
            if capture is not None:
                self.reconnects += 1
                log.warning("astseg: %s reconnected", self.description)
                return capture
        with self._cond:
            self._error = SourceError(
                f"{self.description} was lost and did not come back after "
                f"{self._reconnect.max_attempts} attempts; check the camera or network."
            )
            self._cond.notify_all()
        return None

    def __iter__(self) -> Iterator[SourceFrame]:
        taken = 0
        while True:
            with self._cond:
                while self._latest is None and self._error is None and not self._stop.is_set():
                    self._cond.wait(timeout=0.5)
                if self._latest is None:
                    if self._error is not None:
                        raise self._error
                    return
                frame, self._latest = self._latest, None
            taken += 1
            if (taken - 1) % self._stride == 0:
                yield frame

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        if self._capture is not None and not self._thread.is_alive():
            self._capture.release()
            self._capture = None
