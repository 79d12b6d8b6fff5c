"""The classical baseline itself: MOG2 / KNN + connected components on clips with a known answer."""

from __future__ import annotations

import numpy as np
import pytest
from classical import BackgroundSubtraction, compact

from training.metrics import ChangeCounts, ari_fg, change_counts

EMPTY_FRAMES = 10


def easy_clip(frames: int = 38) -> list[tuple[np.ndarray, np.ndarray]]:
    """A static grey 64x256 background, alone for the first frames; then two white 8x8
    squares, far apart, crossing in opposite directions 8 px a frame (never over their
    own last place, never twice at one place). Returns (frame, instance ids)."""
    out = []
    for t in range(frames):
        frame = np.full((64, 256, 3), 60, np.uint8)
        ids = np.zeros((64, 256), np.int32)
        if t >= EMPTY_FRAMES:
            x = 2 + 8 * (t - EMPTY_FRAMES)
            frame[10:18, x : x + 8] = 230
            ids[10:18, x : x + 8] = 1
            frame[44:52, 246 - x : 254 - x] = 230
            ids[44:52, 246 - x : 254 - x] = 2
        out.append((frame, ids))
    return out


@pytest.mark.parametrize("method", ["mog2", "knn"])
def test_background_subtraction_finds_moving_squares(method):
    subtract = BackgroundSubtraction(method, min_area=16)
    counts = ChangeCounts()
    aris = []
    for t, (frame, ids) in enumerate(easy_clip()):
        foreground, instances = subtract(frame)
        assert foreground.dtype == bool and instances.shape == ids.shape
        if t < EMPTY_FRAMES:  # the background model learns first (CDnet's temporal ROI)
            if t == EMPTY_FRAMES - 1:  # by now an empty scene is empty
                assert not instances.any()
            continue
        counts += change_counts(foreground, np.where(ids > 0, 255, 0).astype(np.uint8))
        aris.append(ari_fg(ids, instances))
    assert counts.f_measure > 0.9
    assert counts.precision > 0.9 and counts.recall > 0.9
    # two separated squares are two connected components: instances match exactly
    assert np.mean(aris) > 0.95


def test_small_components_are_dropped_and_shadows_are_background():
    subtract = BackgroundSubtraction("mog2", min_area=16)
    for _ in range(20):
        subtract(np.full((40, 40, 3), 100, np.uint8))
    frame = np.full((40, 40, 3), 100, np.uint8)
    frame[5:15, 5:15] = 250  # 100 px: an object
    frame[30:33, 30:33] = 250  # 9 px: survives the opening, below min_area
    frame[20:28, 20:35] = 70  # darker by 30 %: MOG2 calls it a shadow (127)
    foreground, instances = subtract(frame)
    assert np.unique(instances).tolist() == [0, 1]
    assert instances[5:15, 5:15].min() == 1
    assert foreground[30:33, 30:33].all() and not instances[30:33, 30:33].any()
    assert not foreground[21:27, 21:34].any()


def test_reset_forgets_the_background():
    dark, bright = np.full((32, 32, 3), 20, np.uint8), np.full((32, 32, 3), 200, np.uint8)
    kept, reset = BackgroundSubtraction("mog2", 1), BackgroundSubtraction("mog2", 1)
    for _ in range(30):
        kept(dark)
        reset(dark)
    reset.reset()
    assert kept(bright)[0].all()  # everything changed against the learnt dark background
    assert not reset(bright)[0].any()  # a fresh model takes its first frame as background


def test_compact_keeps_zero_for_background():
    labels = np.array([[0, 7, 7], [300, 0, 9000]])
    assert compact(labels).tolist() == [[0, 1, 1], [2, 0, 3]]
    assert compact(np.array([[5, 6]])).tolist() == [[1, 2]]
