"""The folder format (write, read, errors, atomicity) and data-spec strings."""

import numpy as np
import pytest

from training.data import (
    FolderDataset,
    Sample,
    SceneConfig,
    SyntheticScenes,
    holdout_split,
    open_dataset,
    parse_data_spec,
    write_folder,
)
from training.data.errors import DataError
from training.data.imageio import write_image, write_labels
from training.data.synth_writer import write_synthetic_images


def test_synthetic_folder_round_trip(tmp_path):
    config = SceneConfig(height=24, width=40, seed=4)
    out = write_synthetic_images(tmp_path / "set", config, 5, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["backgrounds", "images", "masks", "synth.json"]
    dataset = FolderDataset(out)
    truth = SyntheticScenes(config, 5)
    assert len(dataset) == 5
    for i in range(5):
        sample = dataset[i]
        assert sample.name == f"{i:06d}"
        assert (sample.image == truth[i].image).all() and (sample.mask == truth[i].mask).all()
        assert (sample.background == truth[i].background).all()


def test_sixteen_bit_masks_jpg_images_and_no_masks(tmp_path):
    image = np.full((6, 8, 3), 120, np.uint8)
    mask = np.zeros((6, 8), np.int32)
    mask[1:3, 1:3] = 1000  # needs 16 bits
    write_folder(tmp_path / "a", [Sample(image, mask, name="x")], image_format="jpg")
    sample = FolderDataset(tmp_path / "a")[0]
    assert (sample.mask == mask).all() and sample.mask.dtype == np.int32
    assert (tmp_path / "a" / "images" / "x.jpg").is_file()
    plain = tmp_path / "plain"
    plain.mkdir()
    write_image(plain / "only.png", image)  # images directly in the folder, no masks
    sample = open_dataset(f"folder:{plain}")[0]
    assert sample.mask is None and (sample.image == image).all()


def test_folder_errors_name_the_file(tmp_path):
    root = tmp_path / "d"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    write_image(root / "images" / "a.png", np.zeros((4, 4, 3), np.uint8))
    write_labels(root / "masks" / "a.png", np.zeros((5, 4), np.uint8))
    with pytest.raises(DataError, match=r"masks/a.png: mask is 4x5 but the image is 4x4"):
        FolderDataset(root)[0]
    write_labels(root / "masks" / "zz.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(DataError, match="zz.png has no image"):
        FolderDataset(root)
    with pytest.raises(DataError, match="has no images"):
        FolderDataset(tmp_path / "d" / "masks" / ".." / "..")


def test_writes_are_staged(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(DataError, match="already exists and is not empty"):
        write_folder(tmp_path / "full", [])

    def broken():
        yield Sample(np.zeros((4, 4, 3), np.uint8), name="ok")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_folder(tmp_path / "new", broken())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]  # nothing half-written


def test_spec_parsing():
    spec = parse_data_spec("synthetic:size=64,objects=4,background=fixed,count=5000,seed=0")
    assert spec.kind == "synthetic" and spec.options["count"] == "5000"
    spec = parse_data_spec("video:/data/cam 1.mp4?stride=2&limit=10&size=48x64")
    assert (spec.kind, spec.argument) == ("video", "/data/cam 1.mp4")
    assert spec.options == {"stride": "2", "limit": "10", "size": "48x64"}
    assert parse_data_spec("objects-room:/x").kind == "objects_room"


def test_synthetic_spec_builds_the_configured_set():
    dataset = open_dataset("synthetic:size=24x40,objects=2,background=gradient,count=30,seed=3")
    assert len(dataset) == 30
    sample = dataset[0]
    assert sample.image.shape == (24, 40, 3) and len(np.unique(sample.mask)) <= 3
    assert len(open_dataset("synthetic:count=30,size=16?split=val")) == 3
    assert len(open_dataset("synthetic:count=30,size=16?split=train&holdout=0.5")) == 15
    assert len(open_dataset("synthetic:count=30,size=16,limit=4")) == 4
    video = open_dataset("synthetic_video:size=32,frames=12,objects=2")
    assert len(video) == 12 and video[3].sequence is not None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("mnist:/x", "unknown kind 'mnist'"),
        ("folder", "folder needs a path"),
        ("synthetic:size=big", "size='big' must be H or HxW"),
        ("synthetic:colour=red", "unknown option 'colour'"),
        ("synthetic:count=0", "count='0' must be at least 1"),
        ("synthetic:objects", "must look like key=value"),
        ("synthetic:split=test", "split must be all, train or val"),
        ("folder:/no/such/place", "/no/such/place does not exist"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(DataError, match=message):
        open_dataset(spec)


def test_holdout_split_is_a_contiguous_tail():
    dataset = SyntheticScenes(SceneConfig(height=16, width=16), 10)
    train, val = holdout_split(dataset, 0.25)
    assert (len(train), len(val)) == (7, 3)
    assert (val[0].image == dataset[7].image).all()
    with pytest.raises(DataError, match="strictly between 0 and 1"):
        holdout_split(dataset, 1.0)
