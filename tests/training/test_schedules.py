import pytest

from training.schedules import lr_factor, pixel_entropy_factor


def test_lr_warms_up_quadratically_then_drops_tenfold_at_90_percent():
    assert lr_factor(0, 100, 1000) == pytest.approx((1 / 100) ** 2)
    assert lr_factor(49, 100, 1000) == pytest.approx(0.25)
    assert lr_factor(99, 100, 1000) == 1.0
    assert lr_factor(899, 100, 1000) == 1.0
    assert lr_factor(900, 100, 1000) == pytest.approx(0.1)
    assert lr_factor(0, 0, 10) == 1.0


def test_pixel_entropy_weight_warms_up_quadratically():
    assert pixel_entropy_factor(0, 10_000) == 0.0
    assert pixel_entropy_factor(5_000, 10_000) == pytest.approx(0.25)
    assert pixel_entropy_factor(10_000, 10_000) == 1.0
    assert pixel_entropy_factor(50_000, 10_000) == 1.0


def test_a_late_pixel_entropy_weight_replaces_the_warmed_up_one_from_its_step():
    from training.schedules import pixel_entropy_weight

    assert pixel_entropy_weight(500, 0.1, 1_000) == pytest.approx(0.1 * 0.25)
    assert pixel_entropy_weight(4_999, 0.1, 1_000, 0.01, 5_000) == pytest.approx(0.1)
    assert pixel_entropy_weight(5_000, 0.1, 1_000, 0.01, 5_000) == 0.01
    assert pixel_entropy_weight(90_000, 0.1, 1_000, None, 5_000) == pytest.approx(0.1)
