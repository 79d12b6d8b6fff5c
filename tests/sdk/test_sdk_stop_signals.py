"""StopSignals, the one stop-signal handler of `astseg run`, the trainer and its launcher."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from sdk.run.stop_signals import SignalInterrupt, StopSignals


@pytest.fixture
def outer() -> Iterator[list[str]]:
    """SIGHUP's handler before a StopSignals block: records what reaches it."""
    seen: list[str] = []
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: seen.append("outer"))
    yield seen
    signal.signal(signal.SIGHUP, previous)


def _hang_up() -> None:
    os.kill(os.getpid(), signal.SIGHUP)


def test_a_second_signal_raises_in_the_run_loop(outer: list[str]) -> None:
    with pytest.raises(SignalInterrupt), StopSignals() as stops:
        _hang_up()
        assert stops.requested and stops.name == "SIGHUP"
        _hang_up()
    assert outer == []


def test_default_gives_the_second_signal_back_to_the_previous_handler(outer: list[str]) -> None:
    told: list[int] = []
    with StopSignals(again="default", on_signal=told.append) as stops:
        _hang_up()
        _hang_up()
    assert stops.signum == signal.SIGHUP and told == [signal.SIGHUP] and outer == ["outer"]
    _hang_up()
    assert outer == ["outer", "outer"]  # the block put the previous handler back


def test_record_keeps_every_signal_and_tells_each(outer: list[str]) -> None:
    told: list[int] = []
    with StopSignals(again="record", on_signal=told.append) as stops:
        _hang_up()
        _hang_up()
    assert stops.requested and told == [signal.SIGHUP, signal.SIGHUP] and outer == []
