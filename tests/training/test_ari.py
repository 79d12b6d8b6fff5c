"""ARI and ARI-FG agree with scikit-learn to 1e-9, degenerate cases included."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from training.metrics import adjusted_rand_index, ari_fg


def test_random_label_maps_match_sklearn():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n_true, n_pred = rng.integers(1, 8, size=2)
        shape = tuple(rng.integers(1, 24, size=2))
        truth = rng.integers(0, n_true, size=shape)
        pred = rng.integers(0, n_pred, size=shape) * 13 - 5  # arbitrary label values
        assert adjusted_rand_index(truth, pred) == pytest.approx(
            adjusted_rand_score(truth.ravel(), pred.ravel()), abs=1e-9
        )


def test_structured_maps_match_sklearn():
    rng = np.random.default_rng(1)
    truth = np.zeros((32, 32), int)
    truth[4:14, 4:14], truth[18:30, 10:25], truth[2:8, 20:30] = 1, 2, 3
    pred = truth.copy()
    flip = rng.random(truth.shape) < 0.1
    pred[flip] = rng.integers(0, 5, size=flip.sum())
    fg = truth > 0
    expected = adjusted_rand_score(truth[fg], pred[fg])
    assert ari_fg(truth, pred) == pytest.approx(expected, abs=1e-9)
    assert 0.5 < expected < 1.0


@pytest.mark.parametrize(
    ("truth", "pred"),
    [
        (np.zeros((4, 4), int), np.zeros((4, 4), int)),  # all background
        (np.zeros((4, 4), int), np.arange(16).reshape(4, 4)),
        (np.ones((4, 4), int), np.zeros((4, 4), int)),  # one object, one predicted label
        (np.ones((4, 4), int), np.arange(16).reshape(4, 4)),  # one object, all singletons
        (np.arange(16).reshape(4, 4), np.zeros((4, 4), int)),  # prediction all one label
        (np.array([[1, 1, 2, 2]]), np.array([[5, 5, 9, 9]])),  # same partition, new names
        (np.array([[1, 1, 2, 2]]), np.array([[0, 1, 0, 1]])),  # worse than chance
        (np.array([[3]]), np.array([[0]])),  # one pixel
    ],
)
def test_degenerate_cases_match_sklearn(truth, pred):
    fg = truth > 0
    assert ari_fg(truth, pred) == pytest.approx(adjusted_rand_score(truth[fg], pred[fg]), abs=1e-9)
    assert adjusted_rand_index(truth, pred) == pytest.approx(
        adjusted_rand_score(truth.ravel(), pred.ravel()), abs=1e-9
    )


def test_known_values():
    assert adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)
    assert adjusted_rand_index([0, 0, 0, 0], [0, 1, 2, 3]) == 0.0
    assert adjusted_rand_index([], []) == 1.0


def test_large_image_does_not_overflow():
    truth = np.repeat(np.arange(4), 1_000_000 // 4)
    pred = truth.copy()
    pred[:1000] = 3
    assert adjusted_rand_index(truth, pred) == pytest.approx(
        adjusted_rand_score(truth, pred), abs=1e-9
    )


def test_shape_mismatch_is_rejected():
    with pytest.raises(ValueError, match="shape"):
        ari_fg(np.zeros((2, 2), int), np.zeros((2, 3), int))
