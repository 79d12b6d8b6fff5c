"""Synthetic fixed-camera video: persistent ids, entries and exits, occlusion, mp4 output."""

import numpy as np
import pytest

from training.data import SceneConfig, SyntheticVideo, open_dataset
from training.data.errors import DataError
from training.data.synth_writer import write_synthetic_video
from training.data.synthetic import object_footprint


@pytest.fixture(scope="module")
def video():
    return SyntheticVideo(SceneConfig(height=48, width=64, max_objects=3, seed=5), 240)


def test_random_access_equals_streaming(video):
    streamed = list(video.iter_frames())
    assert len(streamed) == 240
    for t in (0, 117, 239):
        sample = video[t]
        assert (sample.image == streamed[t][0]).all() and (sample.mask == streamed[t][1]).all()
        assert sample.sequence == "synthetic-video" and sample.frame == t


def test_ids_persist_and_objects_enter_and_leave(video):
    masks = [m for _, m in video.iter_frames()]
    on_screen = [set(np.unique(m)) - {0} for m in masks]
    assert max(len(s) for s in on_screen) <= 3
    # An id belongs to one object for its whole life: its mask moves smoothly from frame to
    # frame (a reused id would jump across the image).
    seen = sorted(set().union(*on_screen))
    assert len(seen) >= 5
    for obj in seen:
        frames = [t for t, s in enumerate(on_screen) if obj in s]
        centroids = [np.argwhere(masks[t] == obj).mean(0) for t in frames]
        steps = np.linalg.norm(np.diff(centroids, axis=0), axis=1)
        assert np.median(steps) < 3.0  # pixels per frame
    entered = [obj for obj in seen if obj not in on_screen[0]]
    first = min(t for t, s in enumerate(on_screen) if entered[0] in s)
    area = (masks[first] == entered[0]).sum()
    full = max((m == entered[0]).sum() for m in masks)
    assert area < full  # it came in across the border


def test_objects_occlude_each_other(video):
    occluded = 0
    for t in range(0, 240, 3):
        for track in video.tracks:
            if not track.alive(t):
                continue
            rows, cols, inside = object_footprint(track.pose(t), 48, 64)
            if inside.any():
                visible = (video[t].mask[rows, cols][inside] == track.track_id).mean()
                occluded += visible < 0.95
    assert occluded > 0


def test_writer_and_video_reader_round_trip(tmp_path):
    config = SceneConfig(height=48, width=64, max_objects=3, seed=2)
    out = write_synthetic_video(tmp_path / "vid", config, 20, progress=False)
    assert sorted(p.name for p in out.iterdir()) == [
        "synth.json", "video.mp4", "video_background.png", "video_masks",
    ]  # fmt: skip
    dataset = open_dataset(f"video:{out / 'video.mp4'}?stride=3")
    assert len(dataset) == 7
    truth = SyntheticVideo(config, 20)
    sample = dataset[2]
    assert sample.frame == 6 and (sample.mask == truth[6].mask).all()
    assert np.abs(sample.image.astype(int) - truth[6].image).mean() < 12  # lossy mp4v
    assert (sample.background == truth[6].background).all()
    resized = open_dataset(f"video:{out / 'video.mp4'}?size=24x32&limit=4")
    assert len(resized) == 4 and resized[0].image.shape == (24, 32, 3)
    assert resized[0].mask.shape == (24, 32)


def test_video_reader_errors(tmp_path):
    (tmp_path / "x.mp4").write_bytes(b"garbage")
    with pytest.raises(DataError, match="x.mp4"):
        open_dataset(f"video:{tmp_path / 'x.mp4'}")
    with pytest.raises(DataError, match="stride"):
        open_dataset(f"video:{tmp_path / 'x.mp4'}?stride=0")
