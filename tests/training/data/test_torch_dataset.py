"""The torch wrapper, and that everything else in training.data stays torch-free."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from training.data import SceneConfig, SyntheticScenes, open_dataset
from training.data.errors import DataError
from training.data.imageio import write_image
from training.data.torch_dataset import TorchSampleDataset


def test_items_are_float_chw_in_unit_range_with_masks():
    scenes = SyntheticScenes(SceneConfig(height=24, width=32), 6)
    dataset = TorchSampleDataset(scenes, with_backgrounds=True)
    batch = next(iter(DataLoader(dataset, batch_size=4)))
    assert batch["image"].shape == (4, 3, 24, 32) and batch["image"].dtype == torch.float32
    assert float(batch["image"].min()) >= 0.0 and float(batch["image"].max()) <= 1.0
    assert batch["mask"].shape == (4, 24, 32) and batch["mask"].dtype == torch.int64
    assert batch["background"].shape == (4, 3, 24, 32)
    np.testing.assert_allclose(
        batch["image"][1].permute(1, 2, 0).numpy() * 255, scenes[1].image, atol=1e-3
    )


def test_resize_and_missing_masks(tmp_path):
    scenes = SyntheticScenes(SceneConfig(height=24, width=32), 2)
    item = TorchSampleDataset(scenes, size=(12, 16))[0]
    assert item["image"].shape == (3, 12, 16) and item["mask"].shape == (12, 16)
    write_image(tmp_path / "a.png", np.zeros((8, 8, 3), np.uint8))
    plain = open_dataset(f"folder:{tmp_path}")
    with pytest.raises(DataError, match="has no background"):
        TorchSampleDataset(plain, with_backgrounds=True)[0]
    with pytest.raises(DataError, match="has no mask"):
        TorchSampleDataset(plain, with_masks=True)[0]


def test_numpy_modules_do_not_import_torch():
    code = (
        "import sys, training.data, training.data.spec, training.metrics, "
        "training.evaluation.command; "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
