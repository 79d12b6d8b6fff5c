"""The trainer says when the slots let go of every object (docs/cpu-recipe.md §13.2), and
keeps the model from before for export."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.training.trainer.trainer_fixtures import DATA_SPEC, tiny_config
from training.checkpoint import checkpoint_to_export, load_checkpoint
from training.trainer import loop
from training.trainer.slot_collapse import SlotActivity, WindowMean


class FourStepWindows(SlotActivity):
    """The trainer's SlotActivity with windows of 4 steps, so a tiny run closes two."""

    @classmethod
    def from_dict(cls, data: dict | None, window: int = 4) -> SlotActivity:  # type: ignore[override]
        return SlotActivity.from_dict(data, window)


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


def test_windows_that_hold_objects_are_the_ones_worth_keeping() -> None:
    activity = SlotActivity(2)
    closed = [
        activity.add(step, value) for step, value in enumerate([0.2, 0.2, 2, 2, 1.2, 1, 0.4, 0.4])
    ]
    assert closed[0::2] == [None] * 4  # only every second step closes a window
    windows = [w for w in closed if w is not None]
    assert [w.mean for w in windows] == pytest.approx([0.2, 2.0, 1.1, 0.4])
    # 0.2: the slots never held objects yet; 1.1 keeps over half of 2.0; 0.4 does not
    assert [activity.holds(w) for w in windows] == [False, True, True, False]


def test_a_window_whose_end_has_fallen_does_not_hold() -> None:
    """Slots that let go in the last steps of a window: its mean still passes, its tail
    (the last fifth) does not, so its model is not kept."""
    activity = SlotActivity(10)
    first = [activity.add(step, 2.0) for step in range(10)][-1]
    falling = [activity.add(step, 2.0 if step < 17 else 0.0) for step in range(10, 20)][-1]
    assert first is not None and falling is not None
    assert falling.mean == pytest.approx(1.4) and falling.tail == pytest.approx(0.0)
    assert activity.holds(first) and not activity.holds(falling)


def test_a_resumed_run_goes_on_from_its_saved_windows() -> None:
    activity = _activity([2.0] * 4 + [1.5] * 4)
    again = SlotActivity.from_dict(activity.to_dict(), window=4)
    assert again.best == WindowMean(100, 103, 2.0, 2.0)
    assert again.last == WindowMean(104, 107, 1.5, 1.5)
    for step, value in enumerate([0.1] * 4, start=108):
        again.add(step, value)
    assert again.collapse_message() is not None
    # nothing saved, or windows of another length: counting starts afresh
    assert SlotActivity.from_dict(None, window=4).best is None
    assert SlotActivity.from_dict(activity.to_dict(), window=500).best is None


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
        monkeypatch.setattr(loop, "SlotActivity", FourStepWindows)
        lines: list[str] = []
        config = tiny_config(steps=8, frozen_background_steps=8)
        out = tmp_path / f"run-{falling}"
        kept = out / "checkpoints" / "before_collapse.pt"
        if not falling:  # left by an earlier end of the same run: stale once the slots hold
            kept.parent.mkdir(parents=True)
            kept.write_bytes(b"stale")
        result = loop.train(config, DATA_SPEC, out, progress=False, echo=lines.append)
        said = [line for line in lines if line.startswith("slot collapse")]
        assert len(said) == int(falling), lines
        # the model of the last window that held objects: the first window's end
        active = load_checkpoint(out / "checkpoints" / "slots_active.pt")
        held_step = active["step"]
        assert held_step == result.step - (4 if falling else 0)
        chosen, note = checkpoint_to_export(out)
        if falling:
            assert chosen == kept and note is not None and "collapsed" in note
            assert checkpoint_to_export(out / "checkpoints")[0] == kept
            assert load_checkpoint(kept)["step"] == held_step
            assert f"model of step {held_step}, before the fall, is kept as {kept}" in said[0]
        else:
            assert not kept.exists() and note is None
            assert chosen == out / "checkpoints" / "latest.pt"
