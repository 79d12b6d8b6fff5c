"""COCO RLE: pycocotools' exact strings, column-major order, and lossless round trips."""

from __future__ import annotations

import numpy as np
import pytest

from sdk.outputs import rle


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


@pytest.mark.parametrize(("height", "width"), [(6, 8), (1, 1), (1, 9), (7, 1), (48, 64)])
def test_box_counts_equal_the_whole_mask_counts(height: int, width: int) -> None:
    """Boxes anywhere, touching every edge, whole rows and whole columns, full or empty."""
    rng = np.random.default_rng(height * 100 + width)
    boxes = [(0, 0, width, height), (0, 0, 1, 1), (width - 1, height - 1, width, height)]
    for _ in range(40):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        boxes.append(
            (x0, y0, int(rng.integers(x0 + 1, width + 1)), int(rng.integers(y0 + 1, height + 1)))
        )
    boxes += [(0, 2 % height, width, height), (1 % width, 0, width, height)]
    for x0, y0, x1, y1 in boxes:
        for density in (0.0, 0.3, 1.0):
            mask = np.zeros((height, width), bool)
            mask[y0:y1, x0:x1] = rng.random((y1 - y0, x1 - x0)) < density
            box = mask[y0:y1, x0:x1]
            assert rle.box_counts(box, x0, y0, height, width) == rle.mask_to_counts(mask)
            assert rle.encode_box(box, x0, y0, height, width) == rle.encode(mask)


def test_box_outside_the_mask_is_refused() -> None:
    with pytest.raises(ValueError, match=r"does not fit a 4×5 mask"):
        rle.box_counts(np.zeros((2, 2), bool), 4, 0, 4, 5)
