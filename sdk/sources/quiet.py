"""Keep FFmpeg's and OpenCV's native log lines off the terminal while probing devices.

Opening a missing camera or an unreachable stream makes the C libraries print
several lines of their own before OpenCV reports failure; the runtime then
raises one clear sentence, and those lines would only bury it. Set
ASTSEG_DEBUG=1 to see them.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the duration (a no-op with ASTSEG_DEBUG=1)."""
    if os.environ.get("ASTSEG_DEBUG"):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr (embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
