"""The numeric options of `astseg run`, checked before anything is opened.

NaN compares false with everything, so a plain `value <= 0` lets it through; every check
here asks for a finite number first, and each refusal is one sentence naming the option.
"""

from __future__ import annotations

import logging
import math
import os

log = logging.getLogger("astseg")

MIN_FPS = 0.01  # one frame every 100 s; slower than that a run looks hung
MAX_TIMEOUT_S = 86_400.0  # a day; OpenCV takes the timeout as a 32-bit count of milliseconds


def _finite(flag: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{flag} is {value}; it must be a finite number of seconds or frames.")


def check_max_fps(max_fps: float | None) -> None:
    if max_fps is None:
        return
    _finite("--max-fps", max_fps)
    if max_fps < MIN_FPS:
        raise ValueError(
            f"--max-fps is {max_fps:g}; it must be at least {MIN_FPS:g} (one frame every "
            f"{1 / MIN_FPS:g} s), or left out for no limit."
        )


def check_timeout(timeout_s: float) -> None:
    _finite("--timeout", timeout_s)
    if not 0 < timeout_s <= MAX_TIMEOUT_S:
        raise ValueError(
            f"--timeout is {timeout_s:g}; it must be more than 0 and at most "
            f"{MAX_TIMEOUT_S:g} seconds."
        )


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def cap_threads(threads: int | None) -> int | None:
    """More threads than usable cores only adds switching; cap them and say so."""
    if threads is None:
        return None
    if threads < 1:
        raise ValueError(f"--threads is {threads}; it must be 1 or more.")
    cores = usable_cores()
    if threads > cores:
        log.warning(
            "astseg: --threads %d is more than the %d cores this process may use; using %d.",
            threads,
            cores,
            cores,
        )
        return cores
    return threads
