"""Phase plans of the three scenarios and the foreground schedule across phases 2 and 3."""

from __future__ import annotations

import pytest

from training.config import TrainConfig
from training.trainer.optim import learning_rate
from training.trainer.phases import build_plan

CFG = TrainConfig(steps=100, frozen_background_steps=30, background_steps=20, lr_warmup_steps=10)


def spans(plan):
    return [(p.kind, p.start, p.end) for p in plan.phases]


def test_curriculum_baseline_frozen_and_background_only():
    assert spans(build_plan(CFG, "curriculum", 20)) == [
        ("background", 0, 20),
        ("frozen", 20, 50),
        ("joint", 50, 120),
    ]
    assert spans(build_plan(CFG, "baseline", 20)) == [("joint", 0, 100)]
    assert spans(build_plan(CFG, "frozen_background", 20)) == [
        ("background", 0, 20),
        ("frozen", 20, 120),
    ]
    assert spans(build_plan(CFG, "background_only", 20)) == [("background", 0, 20)]
    # A background from another checkpoint: phase 1 is skipped, the rest unchanged.
    assert spans(build_plan(CFG, "curriculum", 0)) == [("frozen", 0, 30), ("joint", 30, 100)]


def test_one_foreground_schedule_spans_phases_2_and_3():
    plan = build_plan(CFG, "curriculum", 20)
    lr = [learning_rate(plan.phase_at(s), plan, s, CFG) for s in range(120)]
    assert lr[:20] == [CFG.background_lr] * 20  # constant in phase 1
    assert lr[20] == pytest.approx(CFG.lr * (1 / 10) ** 2)  # warm-up restarts with the foreground
    assert lr[29] == pytest.approx(CFG.lr)
    assert lr[50] == pytest.approx(CFG.lr)  # no restart at phase 3
    assert lr[20 + 89] == pytest.approx(CFG.lr)
    assert lr[20 + 90] == pytest.approx(CFG.lr / 10)  # ÷10 at 90 % of train.steps
    assert plan.total == 120 and plan.phase_at(120) is None
