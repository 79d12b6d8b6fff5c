"""Sample sheets show images spread over the data: on a video, moments from start to end."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from trainer_fixtures import tiny_config

from training.data import SceneConfig, SyntheticVideo
from training.data.torch_dataset import TorchSampleDataset
from training.trainer import train
from training.trainer.samples import spread_indices


@pytest.mark.parametrize(
    ("length", "count", "expected"),
    [
        (300, 4, [0, 100, 199, 299]),
        (10, 4, [0, 3, 6, 9]),
        (3, 4, [0, 1, 2]),
        (1, 4, [0]),
        (0, 4, []),
        (50, 1, [0]),
    ],
)
def test_spread_indices(length: int, count: int, expected: list[int]) -> None:
    assert spread_indices(length, count) == expected


def test_a_video_sheet_shows_four_moments_across_the_clip(tmp_path) -> None:
    video = SyntheticVideo(SceneConfig(height=32, width=32, max_objects=2, seed=4), 80)
    config = tiny_config(
        steps=1, frozen_background_steps=0, background_steps=1, sample_every_s=1e-9
    )
    train(config, video, tmp_path / "run", progress=False, echo=lambda line: None)
    sheet = cv2.cvtColor(
        cv2.imread(str(tmp_path / "run" / "samples" / "latest.png")), cv2.COLOR_BGR2RGB
    )
    items = TorchSampleDataset(video, size=(32, 32), with_masks=False)
    scale, gap, header = 4, 2, 14  # 32-pixel tiles are drawn 4x (128 px) by samples.compose
    shown = []
    for row in range(4):
        y = 2 * header + gap + row * (32 * scale + gap)
        shown.append(sheet[y : y + 32 * scale : scale, gap : gap + 32 * scale : scale])
    expected = [
        (items[i]["image"].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        for i in (0, 26, 53, 79)
    ]
    for tile, frame in zip(shown, expected, strict=True):
        assert np.array_equal(tile, frame)
    # and those moments differ: no two rows show the same picture
    for a in range(4):
        for b in range(a + 1, 4):
            assert np.abs(shown[a].astype(int) - shown[b].astype(int)).mean() > 1.0
