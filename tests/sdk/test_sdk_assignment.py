"""The numpy assignment solver finds the optimum scipy finds, for square and rectangular costs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment as scipy_lsa

from sdk.assignment import linear_sum_assignment


def test_matches_scipy_optimum() -> None:
    rng = np.random.default_rng(0)
    for trial in range(400):
        n, m = (int(v) for v in rng.integers(1, 10, 2))
        cost = rng.random((n, m)) if trial % 2 else rng.integers(0, 3, (n, m)).astype(float)
        rows, cols = linear_sum_assignment(cost)
        ref_rows, ref_cols = scipy_lsa(cost)
        assert len(rows) == min(n, m) == len(set(cols.tolist())) == len(set(rows.tolist()))
        assert cost[rows, cols].sum() == pytest.approx(cost[ref_rows, ref_cols].sum(), abs=1e-9)
        assert list(rows) == sorted(rows)


def test_known_answer_and_edge_cases() -> None:
    cost = np.array([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]])
    rows, cols = linear_sum_assignment(cost)
    assert rows.tolist() == [0, 1, 2] and cols.tolist() == [1, 0, 2]
    empty_rows, empty_cols = linear_sum_assignment(np.zeros((0, 3)))
    assert empty_rows.size == 0 and empty_cols.size == 0
    with pytest.raises(ValueError, match=r"must be finite"):
        linear_sum_assignment(np.array([[np.inf]]))
