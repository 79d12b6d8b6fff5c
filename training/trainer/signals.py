"""SIGINT / SIGTERM / SIGHUP ask the run to stop after the current step, with a checkpoint.

The handler only sets a flag: the loop checks it between steps, so a signal never lands
in the middle of an optimiser update or a checkpoint write. In a single process, the first
signal also restores the default handlers, so pressing Ctrl-C twice still ends a run that
does not respond. Under torchrun a worker keeps its handler: after the terminal's Ctrl-C,
torchrun sends its own SIGTERM, which must not kill the worker before it has saved.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType

_HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopRequest:
    def __init__(self, restore_on_signal: bool = True) -> None:
        self.signal_name: str | None = None
        self.restore_on_signal = restore_on_signal
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.signal_name is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal_name is None:
            self.signal_name = signal.Signals(signum).name
        if self.restore_on_signal:
            self._restore()

    def _restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)  # type: ignore[arg-type]

    def __enter__(self) -> StopRequest:
        # Handlers can only be installed from the main thread (not, e.g., in a test thread).
        if threading.current_thread() is threading.main_thread():
            for sig in _HANDLED:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._restore()
        self._previous.clear()
