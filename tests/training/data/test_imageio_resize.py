"""Image and id-map IO (8/16-bit, palette, errors) and the benchmark resamplers."""

import numpy as np
import pytest

from training.data.errors import DataError
from training.data.imageio import read_image, read_labels, write_image, write_labels
from training.data.resize import (
    centre_crop,
    resize_labels_centre,
    resize_labels_floor,
    resize_pil_bilinear,
)


def test_labels_round_trip_8_and_16_bit(tmp_path):
    small = np.arange(12).reshape(3, 4)
    large = small * 5000
    write_labels(tmp_path / "a.png", small)
    write_labels(tmp_path / "b.png", large)
    assert (read_labels(tmp_path / "a.png") == small).all()
    assert (read_labels(tmp_path / "b.png") == large).all()
    assert read_labels(tmp_path / "b.png").dtype == np.int32
    assert not list(tmp_path.glob(".*tmp*"))  # atomic writes leave no temporary files


def test_palette_mask_reads_indices_not_colours(tmp_path, write_palette_png):
    indices = np.array([[0, 1, 2], [10, 3, 0]])
    write_palette_png(tmp_path / "m.png", indices)
    assert (read_labels(tmp_path / "m.png") == indices).all()


def test_rgb_round_trip_and_channel_order(tmp_path):
    image = np.zeros((2, 3, 3), np.uint8)
    image[..., 0] = 200  # red
    write_image(tmp_path / "x.png", image)
    assert (read_image(tmp_path / "x.png") == image).all()


def test_colour_mask_and_corrupt_files_name_the_file(tmp_path):
    write_image(tmp_path / "rgb.png", np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(DataError, match="rgb.png has 3 channels"):
        read_labels(tmp_path / "rgb.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="bad.png is not a readable image"):
        read_image(tmp_path / "bad.png")
    with pytest.raises(DataError, match="missing.png does not exist"):
        read_image(tmp_path / "missing.png")


def test_resamplers_match_pillow():
    image_module = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    for (h, w), (oh, ow) in [
        ((192, 192), (128, 128)),
        ((196, 196), (64, 64)),
        ((30, 50), (64, 41)),
    ]:
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        expected = np.asarray(image_module.fromarray(image).resize((ow, oh), image_module.BILINEAR))
        assert (resize_pil_bilinear(image, (oh, ow)) == expected).all()
        labels = rng.integers(0, 11, (h, w), dtype=np.uint8)
        expected = np.asarray(image_module.fromarray(labels).resize((ow, oh), image_module.NEAREST))
        assert (resize_labels_centre(labels, (oh, ow)) == expected).all()


def test_floor_nearest_is_torch_rule_and_crop_is_centred():
    labels = np.arange(12).reshape(1, 12)
    assert resize_labels_floor(labels, (1, 8)).tolist() == [[0, 1, 3, 4, 6, 7, 9, 10]]
    crop = centre_crop(np.arange(240 * 320).reshape(240, 320), 192, 192)
    assert crop[0, 0] == 24 * 320 + 64 and crop.shape == (192, 192)
