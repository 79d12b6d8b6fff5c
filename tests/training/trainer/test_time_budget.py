"""`train.time_limit_minutes` (`astseg train --time-limit`): a run its budget ends stops
with the lr decay applied, and a resumed run stays decayed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.trainer.trainer_fixtures import DATA_SPEC, tiny_config
from training.checkpoint import load_checkpoint
from training.config import ConfigError
from training.schedules import lr_factor
from training.trainer.loop import train
from training.trainer.result import StepRecord


def test_the_decay_point_of_a_budget_wins_only_when_it_comes_first() -> None:
    assert lr_factor(50, 0, 100, 0.9) == 1.0
    assert lr_factor(50, 0, 100, 0.9, decay_from=40) == pytest.approx(0.1)
    assert lr_factor(39, 0, 100, 0.9, decay_from=40) == 1.0
    assert lr_factor(95, 0, 100, 0.9, decay_from=400) == pytest.approx(0.1)  # steps came first


def test_a_run_ended_by_its_time_limit_has_decayed_and_stays_decayed(tmp_path: Path) -> None:
    # 10 000 steps cannot finish in 4 s: the budget ends the run, and the lr ÷ 10 must come
    # once half of it is spent (lr_decay_fraction 0.5), not at step 5 000.
    config = tiny_config(
        steps=10_000, time_limit_minutes=4 / 60, lr_decay_fraction=0.5, lr_warmup_steps=0
    )
    records: list[StepRecord] = []
    result = train(config, DATA_SPEC, tmp_path / "run", on_step=records.append, progress=False)
    assert result.status == "time_limit"
    foreground = [r for r in records if r.phase != "background"]
    assert len(foreground) < 5_000
    lrs = [r.lr for r in foreground]
    base = config.train.lr
    assert lrs[0] == pytest.approx(base) and lrs[-1] == pytest.approx(base / 10)
    first_decayed = next(i for i, lr in enumerate(lrs) if lr < base)
    assert all(lr == pytest.approx(base / 10) for lr in lrs[first_decayed:])
    state = load_checkpoint(result.checkpoint)["state"]
    assert state["lr_decay_from"] == first_decayed
    # Resumed with a fresh budget, the run keeps the decay it already chose.
    more: list[StepRecord] = []
    train(None, None, tmp_path / "run", resume=True, time_limit_s=2, on_step=more.append,
          progress=False)  # fmt: skip
    assert more and all(r.lr == pytest.approx(base / 10) for r in more)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_a_time_limit_must_be_a_finite_number_of_minutes(bad: float) -> None:
    with pytest.raises(ConfigError, match="time_limit_minutes"):
        tiny_config(time_limit_minutes=bad).validate()
