"""SIGINT, SIGTERM and SIGHUP stop astseg's commands the same way, and the exit code says which.

`docker stop` and `systemctl stop` send SIGTERM, closing a terminal sends SIGHUP, Ctrl-C
sends SIGINT. Two ways to honour them:

- `StopSignals` (the run loop, the trainer): the handler only records the signal, and the
  loop stops after the frame or step in hand, so every output is closed whole. What a
  second signal does is the loop's choice (`again`).
- `raising_signals()` (everything else): SIGTERM and SIGHUP raise `SignalInterrupt`, a
  KeyboardInterrupt, exactly where SIGINT would, so the cleanup that already runs for
  Ctrl-C (staging folders removed, temporary files deleted) runs for them too.

Work cut short exits 128 + the signal number (130, 143, 129), as a shell reports a process
killed by it, so a script can tell an interrupted run from a finished one.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType, TracebackType
from typing import Any, Literal

from sdk.errors import AstsegError

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class SignalInterrupt(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like the KeyboardInterrupt of SIGINT."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def signum_of(err: KeyboardInterrupt) -> int:
    """The signal behind an interrupt (SIGINT for a plain KeyboardInterrupt)."""
    return err.signum if isinstance(err, SignalInterrupt) else int(signal.SIGINT)


def exit_code(signum: int) -> int:
    """128 + N, what a shell reports for a process ended by signal N."""
    return 128 + int(signum)


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise(signum: int, frame: FrameType | None) -> None:
    raise SignalInterrupt(signum)


@contextlib.contextmanager
def raising_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise SignalInterrupt (main thread only)."""
    if not _in_main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def ignoring_signals() -> Iterator[None]:
    """Within the block, the three stop signals are ignored: outputs are being finished."""
    if not _in_main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in HANDLED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


Again = Literal["raise", "default", "record"]


class StopSignals:
    """Records the first stop signal for a loop to check between steps.

    again: what a second signal does. "raise" (the run loop): KeyboardInterrupt, for a
    loop that does not get back to its check. "default": the first signal puts the previous
    handlers back, so a second one acts as it would without astseg (Ctrl-C twice ends a
    trainer that does not respond). "record": nothing more (a torchrun worker: after the
    terminal's Ctrl-C, torchrun sends its own SIGTERM, which must not kill the worker
    before it has saved). on_signal runs after each signal is recorded (the launcher
    passes it on to its workers).
    """

    def __init__(
        self, again: Again = "raise", on_signal: Callable[[int], None] | None = None
    ) -> None:
        self.again = again
        self.on_signal = on_signal
        self.signum: int | None = None
        self.event = threading.Event()
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    @property
    def name(self) -> str | None:
        """The first signal's name, e.g. 'SIGTERM' (None before any)."""
        return None if self.signum is None else signal_name(self.signum)

    def request(self, signum: int) -> None:
        """Ask the loop to stop as if `signum` had arrived (also used for KeyboardInterrupt)."""
        if self.signum is None:
            self.signum = signum
        self.event.set()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.event.is_set() and self.again == "raise":
            raise SignalInterrupt(signum) if signum != signal.SIGINT else KeyboardInterrupt
        self.request(signum)
        if self.on_signal is not None:
            self.on_signal(signum)
        if self.again == "default":
            self._restore()

    def _restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def __enter__(self) -> StopSignals:
        if _in_main_thread():  # handlers can only be installed from the main thread
            for sig in HANDLED:
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


class Interrupted(AstsegError):
    """A stop signal before any output was opened: one sentence and exit 128 + N."""

    def __init__(self, signum: int, when: str) -> None:
        super().__init__(f"interrupted by {signal_name(signum)} {when}; nothing was written.")
        self.exit_code = exit_code(signum)
