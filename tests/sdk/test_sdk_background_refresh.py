"""The background graph runs on every N-th frame of a stream and at once when the whole
view changes (sdk.fixed_camera.background_refresh), and the results equal a per-frame run there."""

from __future__ import annotations

import numpy as np
import pytest

from sdk import Segmenter
from sdk.fixed_camera.background_refresh import BackgroundRefresh


def _frame(level: int, blob_at: int | None = None) -> np.ndarray:
    image = np.full((3, 60, 80), level, dtype=np.uint8)
    if blob_at is not None:  # a moving object: a fifth of the width
        image[:, 20:40, blob_at : blob_at + 16] = 255
    return image


def test_every_nth_frame_and_on_a_light_switch_but_not_for_a_moving_object() -> None:
    refresh = BackgroundRefresh(every=4, max_change=2.0)
    moving = [refresh.needs(_frame(100, x)) for x in range(0, 60, 6)]  # 10 frames
    assert moving == [True, False, False, False] * 2 + [True, False]
    refresh.reset()
    assert refresh.needs(_frame(100)) is True
    assert refresh.needs(_frame(101)) is False  # one level: sensor drift, not a switch
    assert refresh.needs(_frame(140)) is True  # the lights came on: at once
    assert refresh.needs(_frame(140, 10)) is False


def test_every_one_is_every_frame_and_bad_values_are_refused() -> None:
    refresh = BackgroundRefresh(every=1)
    assert all(refresh.needs(_frame(100)) for _ in range(5))
    with pytest.raises(ValueError, match="background_every is 0"):
        BackgroundRefresh(every=0)
    with pytest.raises(ValueError, match="background_change is nan"):
        BackgroundRefresh(max_change=float("nan"))


class _Counting:
    """Wraps a backend's run_background to count the frames it is given."""

    def __init__(self, run):
        self.run, self.frames = run, 0

    def __call__(self, images):
        self.frames += len(images)
        return self.run(images)


def test_a_stream_runs_the_graph_on_a_quarter_of_the_frames(camera_bundle_dir) -> None:
    rng = np.random.default_rng(0)
    frames = [rng.integers(60, 64, size=(120, 160, 3), dtype=np.uint8) for _ in range(12)]
    for frame, x in zip(frames, range(0, 120, 10), strict=True):
        frame[40:70, x : x + 25] = 230  # an object crossing a steady scene
    seg = Segmenter(camera_bundle_dir, masks_from="fused")
    exact = Segmenter(camera_bundle_dir, masks_from="fused", background_every=1)
    counting = _Counting(seg.backend.run_background)
    seg.backend.run_background = counting  # type: ignore[method-assign]
    results = [seg(f) for f in frames]
    want = [exact(f) for f in frames]
    assert counting.frames == 3  # frames 0, 4 and 8
    # On the frames the graph ran on, the results are those of a per-frame run.
    for i in (0, 4, 8):
        np.testing.assert_array_equal(results[i].label_map, want[i].label_map)
    # Between them the scene did not change, so the reused background gives the same
    # foreground up to the graph's response to the object's own move (a few pixels).
    for got, ref in zip(results, want, strict=True):
        assert got.foreground is not None and ref.foreground is not None
        assert np.mean(got.foreground != ref.foreground) < 0.01
    seg.close()
    exact.close()
