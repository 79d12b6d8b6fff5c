"""The trainer says when the slots let go of every object (docs/cpu-recipe.md §13.2)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.training.trainer.trainer_fixtures import DATA_SPEC, tiny_config
from training.trainer import loop
from training.trainer.slot_collapse import SlotActivity


def _activity(values: list[float], window: int = 4) -> SlotActivity:
    activity = SlotActivity(window)
    for step, value in enumerate(values, start=100):
        activity.add(step, value)
    return activity


def test_a_fall_under_half_the_best_window_is_a_collapse() -> None:
    activity = _activity([2.0, 2.5, 2.0, 2.5] + [2.0] * 4 + [0.5, 0.0, 0.25, 0.25])
    assert activity.best is not None and activity.best.mean == pytest.approx(2.25)
    assert (activity.best.first_step, activity.best.last_step) == (100, 103)
    assert activity.last is not None and activity.last.mean == pytest.approx(0.25)
    message = activity.collapse_message()
    assert message is not None
    assert "2.25 slots per training image" in message
    assert "steps 100-103" in message and "0.25 at steps 108-111" in message
    assert "--slots" in message


@pytest.mark.parametrize(
    "values",
    [
        [2.0] * 4 + [1.2] * 4,  # 0.6 of the best: a dip, not a collapse
        [0.4] * 4 + [0.0] * 4,  # never held objects: nothing to lose
        [2.0] * 4 + [0.0] * 3,  # the falling window is not full yet
        [],
    ],
)
def test_no_message_without_a_full_window_fallen_from_held_objects(values: list[float]) -> None:
    assert _activity(values).collapse_message() is None


def test_a_recovered_run_is_quiet() -> None:
    assert _activity([2.0] * 4 + [0.1] * 4 + [1.9] * 4).collapse_message() is None


def test_the_window_must_hold_a_step() -> None:
    with pytest.raises(ValueError, match="window"):
        SlotActivity(0)


def test_the_trainer_says_so_at_the_end_of_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tiny run whose logged active slots fall from 2 to 0: the last line says so; the
    same run with steady slots says nothing."""
    for falling in (True, False):
        calls = itertools.count(1)  # the count starts again each run

        def fake_active_slots(
            _output: object, falling: bool = falling, calls: Iterator[int] = calls
        ) -> float:
            return 0.0 if falling and next(calls) > 4 else 2.0

        monkeypatch.setattr(loop, "active_slots", fake_active_slots)
        monkeypatch.setattr(loop, "SlotActivity", lambda: SlotActivity(window=4))
        lines: list[str] = []
        config = tiny_config(steps=8, frozen_background_steps=8)
        out = tmp_path / f"run-{falling}"
        loop.train(config, DATA_SPEC, out, progress=False, echo=lines.append)
        said = [line for line in lines if line.startswith("slot collapse")]
        assert len(said) == int(falling), lines
