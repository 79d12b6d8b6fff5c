"""What every frame source yields and promises, whatever it reads from."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType

import numpy as np


@dataclass(frozen=True)
class SourceFrame:
    """One decoded frame and where it came from."""

    index: int  # frame number in the source: position in a file, capture count when live
    timestamp: float  # seconds: media time for files, wall-clock UNIX time when received live
    image: np.ndarray  # as decoded: BGR, BGRA, gray, uint8 or uint16
    name: str | None = None  # file name, for image folders


class FrameSource(abc.ABC):
    """An iterable of SourceFrame with counters a progress display can show."""

    description: str = "frames"
    live: bool = False  # live sources drop old frames (newest wins); files never drop
    fps: float | None = None  # the source's nominal rate, when it says
    frame_size: tuple[int, int] | None = None  # (width, height) of the first frame, when known
    total: int | None = None  # frames the iteration will yield, when known in advance
    dropped: int = 0  # live frames replaced by a newer one before they were taken
    skipped: int = 0  # undecodable video frames or unreadable image files
    skipped_files: Sequence[str] = ()  # the unreadable image files, by name
    ended_early: str | None = None  # "ended after N of the M frames ...", for a file cut short

    @abc.abstractmethod
    def __iter__(self) -> Iterator[SourceFrame]: ...

    def close(self) -> None:  # noqa: B027 (sources without a device need no close)
        """Release the device or file; safe to call twice."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
