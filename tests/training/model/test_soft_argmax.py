import math

import torch

from training.model.soft_argmax import (
    competing_logits,
    normalised_coordinates,
    soft_argmax_and_pool,
)


def _peaked(height, width, row, col, sharpness=40.0):
    """Attention logits: a sharp Gaussian bump at (row, col)."""
    ys = torch.arange(height, dtype=torch.float64)[:, None]
    xs = torch.arange(width, dtype=torch.float64)[None, :]
    bump = -((ys - row) ** 2 + (xs - col) ** 2) / 2.0
    return (sharpness * torch.exp(bump / 4.0))[None, None]


def test_one_hot_map_gives_that_pixels_coordinate():
    h, w = 8, 12
    coords = normalised_coordinates(h, w).double()
    for row, col in [(0, 0), (7, 11), (3, 5)]:
        logits = torch.full((1, 1, h, w), -1e4, dtype=torch.float64)
        logits[0, 0, row, col] = 0.0
        pos, _ = soft_argmax_and_pool(logits, torch.zeros(1, 1, h, w, dtype=torch.float64), coords)
        assert torch.allclose(
            pos[0, 0],
            torch.tensor([2 * col / (w - 1) - 1, 2 * row / (h - 1) - 1], dtype=torch.float64),
        )


def test_shifting_a_peaked_map_shifts_position_by_the_normalised_shift():
    h, w = 32, 24
    coords = normalised_coordinates(h, w).double()
    features = torch.zeros(1, 1, h, w, dtype=torch.float64)
    base, _ = soft_argmax_and_pool(_peaked(h, w, 12, 9), features, coords)
    for du, dv in [(3, 0), (0, 5), (-4, 2), (7, -6)]:
        shifted, _ = soft_argmax_and_pool(_peaked(h, w, 12 + dv, 9 + du), features, coords)
        delta = shifted[0, 0] - base[0, 0]
        expected = torch.tensor([2 * du / (w - 1), 2 * dv / (h - 1)], dtype=torch.float64)
        assert torch.allclose(delta, expected, atol=1e-9)


def test_pooled_features_are_the_attention_weighted_mean():
    h, w = 4, 4
    logits = torch.zeros(1, 1, h, w)
    features = torch.arange(2 * h * w, dtype=torch.float32).view(1, 2, h, w)
    _, pooled = soft_argmax_and_pool(logits, features, normalised_coordinates(h, w))
    assert torch.allclose(pooled[0, 0], features.flatten(2).mean(-1)[0])


def test_competing_slots_leave_a_pixel_to_the_slot_that_wants_it_most() -> None:
    """Slot 0 attends strongly to pixel A; slot 1 equally (and mildly) to A and to B. Apart,
    slot 1's soft-argmax sits between them; competing, it goes to B, the pixel nobody holds."""
    logits = torch.full((1, 2, 1, 5), -20.0)
    logits[0, 0, 0, 0] = 10.0  # slot 0: pixel A (x = -1)
    logits[0, 1, 0, 0] = 2.0  # slot 1: A and B (x = +1) alike
    logits[0, 1, 0, 4] = 2.0
    coords = normalised_coordinates(1, 5)
    features = torch.zeros(1, 1, 1, 5)
    apart, _ = soft_argmax_and_pool(logits, features, coords)
    competing, _ = soft_argmax_and_pool(competing_logits(logits), features, coords)
    assert abs(apart[0, 1, 0].item()) < 1e-5  # midway
    # slot 1's logit at A falls by about 8, to e^-8 of its weight at B: x ≈ 1 - 2e^-8
    assert competing[0, 1, 0].item() > 1 - 2 * math.exp(-8) - 1e-5
    # the strongest slot barely pays for competition: it still sits on A
    assert competing[0, 0, 0].item() < -1 + 1e-4


def test_competition_changes_nothing_where_all_slots_attend_alike() -> None:
    logits = torch.randn(2, 1, 6, 7).repeat(1, 3, 1, 1)  # three identical maps
    coords = normalised_coordinates(6, 7)
    features = torch.randn(2, 4, 6, 7)
    ours = soft_argmax_and_pool(competing_logits(logits), features, coords)
    paper = soft_argmax_and_pool(logits, features, coords)
    for a, b in zip(ours, paper, strict=True):
        torch.testing.assert_close(a, b)
