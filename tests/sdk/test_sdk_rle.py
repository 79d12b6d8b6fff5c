"""COCO RLE: pycocotools' exact strings, column-major order, and lossless round trips."""

from __future__ import annotations

import numpy as np
import pytest

from sdk import rle


def test_known_vectors_from_pycocotools() -> None:
    # expected strings were produced by pycocotools.mask.encode on the same masks
    small = np.zeros((6, 8), bool)
    small[1:4, 2:7] = True
    small[5, 0] = True
    assert rle.mask_to_counts(small) == [5, 1, 7, 3, 3, 3, 3, 3, 3, 3, 3, 3, 8]
    assert rle.encode(small) == {"size": [6, 8], "counts": "5172L00000005"}
    big = np.zeros((240, 320), bool)
    big[100:180, 40:300] = True
    big[0, 0] = True
    big[-1, -1] = True
    assert rle.encode(big)["counts"] == "01S_9_2meF" + "0" * 517 + "kb4aM"


def test_column_major_order() -> None:
    mask = np.array([[1, 0, 0], [1, 1, 0]], bool)
    assert rle.mask_to_counts(mask) == [0, 2, 1, 1, 2]  # columns: (1,1), (0,1), (0,0)
    assert rle.mask_to_counts(mask.T.copy()) == [0, 1, 2, 2, 1]  # columns: (1,0,0), (1,1,0)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 1), (17, 23), (64, 48)])
def test_round_trip(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    for density in (0.0, 0.05, 0.5, 0.95, 1.0):
        mask = rng.random(shape) < density
        for compressed in (True, False):
            encoded = rle.encode(mask, compressed=compressed)
            assert np.array_equal(rle.decode(encoded), mask)
            assert rle.area(encoded) == int(mask.sum())
        encoded_bytes = {"size": list(shape), "counts": rle.encode(mask)["counts"].encode()}
        assert np.array_equal(rle.decode(encoded_bytes), mask)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match=r"sum to 5, not 2×3"):
        rle.counts_to_mask([2, 3], 2, 3)
    with pytest.raises(ValueError, match=r"invalid character"):
        rle.string_to_counts("5 1")
    with pytest.raises(ValueError, match=r"ends in the middle"):
        rle.string_to_counts("5P")
    with pytest.raises(ValueError, match=r"must be 2-D"):
        rle.mask_to_counts(np.zeros((2, 2, 2), bool))
