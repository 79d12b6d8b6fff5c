import torch

from training.model.soft_argmax import normalised_coordinates, soft_argmax_and_pool


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
