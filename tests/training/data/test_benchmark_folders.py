"""CLEVRTEX, CDnet 2014 and ShapeStacks readers on tiny trees in their released layouts."""

import cv2
import numpy as np
import pytest

from training.data import open_dataset
from training.data.errors import DataError
from training.data.imageio import write_image
from training.data.resize import resize_labels_centre, resize_pil_bilinear

# ------------------------------------------------------------------ CLEVRTEX


def _clevrtex_tree(root, write_palette_png, variant="full", count=3, size=(240, 320)):
    rng = np.random.default_rng(0)
    truth = []
    for i in range(count):
        folder = root / f"clevrtex_{variant}" / str(i // 2)  # images spread over subfolders
        folder.mkdir(parents=True, exist_ok=True)
        image = rng.integers(0, 256, (*size, 4), dtype=np.uint8)
        image[..., 3] = 255  # opaque RGBA renders
        mask = np.zeros(size, np.uint8)
        mask[size[0] // 3 : size[0] // 2, size[1] // 3 : size[1] // 2] = 1 + i % 10
        mask[-size[0] // 4 :, : size[1] // 4] = 10
        cv2.imwrite(str(folder / f"CLEVRTEX_{variant}_{i:06d}.png"), image[..., [2, 1, 0, 3]])
        write_palette_png(folder / f"CLEVRTEX_{variant}_{i:06d}_flat.png", mask)
        truth.append((image[..., :3], mask))
    return truth


def test_clevrtex_crop_resize_matches_the_benchmark_loader(tmp_path, write_palette_png):
    truth = _clevrtex_tree(tmp_path, write_palette_png)
    dataset = open_dataset(f"clevrtex:{tmp_path}")
    assert len(dataset) == 3
    for i, (image, mask) in enumerate(truth):
        sample = dataset[i]
        crop = (slice(24, 216), slice(64, 256))  # int(0.8 * 240) = 192, centred
        assert (sample.image == resize_pil_bilinear(image[crop], (128, 128))).all()
        assert (sample.mask == resize_labels_centre(mask[crop], (128, 128))).all()
        assert set(np.unique(sample.mask)) == {0, 1 + i % 10, 10}
    image_module = pytest.importorskip("PIL.Image")
    reference = image_module.open(tmp_path / "clevrtex_full/0/CLEVRTEX_full_000000.png")
    reference = reference.crop((64, 24, 256, 216)).resize((128, 128), image_module.BILINEAR)
    assert (np.asarray(reference)[..., :3] == dataset[0].image).all()
    reference = image_module.open(tmp_path / "clevrtex_full/0/CLEVRTEX_full_000000_flat.png")
    reference = reference.crop((64, 24, 256, 216)).resize((128, 128), image_module.NEAREST)
    assert (np.asarray(reference) == dataset[0].mask).all()


def test_clevrtex_splits_and_variants(tmp_path, write_palette_png):
    _clevrtex_tree(tmp_path, write_palette_png, count=20, size=(12, 16))
    _clevrtex_tree(tmp_path, write_palette_png, variant="outd", count=20, size=(12, 16))
    spec = f"clevrtex:{tmp_path}"
    sizes = [len(open_dataset(f"{spec}?variant=full&split={s}")) for s in ("test", "val", "train")]
    assert sizes == [2, 2, 16]
    assert open_dataset(f"{spec}?variant=full&split=val")[0].name == "CLEVRTEX_full_000002"
    assert len(open_dataset(f"{spec}?variant=ood&split=test")) == 20  # OOD has no split
    assert len(open_dataset(f"clevrtex:{tmp_path / 'clevrtex_outd'}")) == 20  # detected
    assert open_dataset(f"{spec}?variant=full&size=64")[0].image.shape == (64, 64, 3)
    with pytest.raises(DataError, match="variant 'camouflage' unknown"):
        open_dataset(f"{spec}?variant=camouflage")


def test_clevrtex_missing_files(tmp_path, write_palette_png):
    _clevrtex_tree(tmp_path, write_palette_png, count=3, size=(12, 16))
    (tmp_path / "clevrtex_full/0/CLEVRTEX_full_000001_flat.png").unlink()
    dataset = open_dataset(f"clevrtex:{tmp_path}")
    with pytest.raises(DataError, match="CLEVRTEX_full_000001_flat.png is missing"):
        dataset[1]
    (tmp_path / "clevrtex_full/0/CLEVRTEX_full_000001.png").unlink()
    with pytest.raises(DataError, match="lacks image CLEVRTEX_full_000001.png"):
        open_dataset(f"clevrtex:{tmp_path}")


# ------------------------------------------------------------------ CDnet 2014


def _cdnet_sequence(root, frames=5, roi=(2, 4)):
    (root / "input").mkdir(parents=True)
    (root / "groundtruth").mkdir()
    (root / "temporalROI.txt").write_text(f"{roi[0]} {roi[1]}\n")
    region = np.full((8, 10), 255, np.uint8)
    region[:, :2] = 0  # the two left columns are outside the spatial ROI
    cv2.imwrite(str(root / "ROI.bmp"), region)
    for n in range(1, frames + 1):
        write_image(root / "input" / f"in{n:06d}.jpg", np.full((8, 10, 3), 10 * n, np.uint8))
        labels = np.zeros((8, 10), np.uint8)
        labels[2:5, 3:7] = 255
        labels[5, 3:7] = 50
        labels[0, :] = 170
        cv2.imwrite(str(root / "groundtruth" / f"gt{n:06d}.png"), labels)


def test_cdnet_sequence(tmp_path):
    _cdnet_sequence(tmp_path / "highway")
    dataset = open_dataset(f"cdnet:{tmp_path / 'highway'}")
    assert len(dataset) == 5
    scored = [dataset[i].motion_labels is not None for i in range(5)]
    assert scored == [False, True, True, True, False]  # temporalROI 2..4
    labels = dataset[1].motion_labels
    assert (labels[:, :2] == 85).all()  # outside ROI.bmp
    assert (labels[2:5, 3:7] == 255).all() and (labels[0, 2:] == 170).all()
    assert dataset[1].frame == 2 and dataset[1].mask is None
    assert len(open_dataset(f"cdnet:{tmp_path / 'highway'}?scored=1")) == 3


def test_cdnet_category_and_errors(tmp_path):
    _cdnet_sequence(tmp_path / "baseline" / "a")
    _cdnet_sequence(tmp_path / "baseline" / "b", frames=3, roi=(1, 3))
    assert len(open_dataset(f"cdnet:{tmp_path}")) == 8
    (tmp_path / "baseline" / "b" / "groundtruth" / "gt000002.png").unlink()
    with pytest.raises(DataError, match="gt000002.png is missing"):
        open_dataset(f"cdnet:{tmp_path / 'baseline' / 'b'}")[1]
    (tmp_path / "baseline" / "a" / "temporalROI.txt").write_text("ten")
    with pytest.raises(DataError, match="temporalROI.txt must hold two frame numbers"):
        open_dataset(f"cdnet:{tmp_path / 'baseline' / 'a'}")


# ------------------------------------------------------------------ ShapeStacks


def test_shapestacks_layout_and_preprocessing(tmp_path):
    rng = np.random.default_rng(1)
    scenarios = ["env_ccs-easy-h=2-vcom=0-vpsf=0-v=1", "env_ccs-hard-h=3-vcom=1-vpsf=0-v=2"]
    truth = {}
    for scenario in scenarios:
        (tmp_path / "recordings" / scenario).mkdir(parents=True)
        (tmp_path / "iseg" / scenario).mkdir(parents=True)
        for cam in (1, 7):
            image = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
            name = f"rgb-w=5-f=2-l=1-c=unique-cam_{cam}-mono-0.png"
            write_image(tmp_path / "recordings" / scenario / name, image)
            ids = np.zeros((224, 224), np.uint8)
            ids[60:120, 80:140], ids[120:180, 90:130] = 1, 3
            seg = np.zeros((224, 224, 3), np.uint8)
            seg[..., 2] = ids * 32 + 5  # red channel, 8 label bins (BGR order on disk)
            seg[..., 0] = 200
            iseg = f"iseg-w=0-f=0-l=0-c=original-cam_{cam}-mono-0.map"
            (tmp_path / "iseg" / scenario / iseg).write_bytes(
                cv2.imencode(".png", seg)[1].tobytes()
            )
            truth[(scenario, cam)] = (image, ids)
    (tmp_path / "splits" / "default").mkdir(parents=True)
    (tmp_path / "splits" / "default" / "test.txt").write_text(scenarios[1] + "\n")
    dataset = open_dataset(f"shapestacks:{tmp_path}")
    assert len(dataset) == 4
    test = open_dataset(f"shapestacks:{tmp_path}?split=test")
    assert len(test) == 2
    sample = test[1]
    image, ids = truth[(scenarios[1], 7)]
    assert sample.image.shape == (64, 64, 3)
    assert (sample.image == resize_pil_bilinear(image[14:210, 14:210], (64, 64))).all()
    index = 14 + (np.arange(64) * 196) // 64
    assert (sample.mask == ids[index[:, None], index]).all()
    assert set(np.unique(sample.mask)) == {0, 1, 3}
    with pytest.raises(DataError, match="eval.txt is missing"):
        open_dataset(f"shapestacks:{tmp_path}?split=val")
