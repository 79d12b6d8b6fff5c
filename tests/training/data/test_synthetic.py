"""Synthetic scenes: seeded, exact masks, every shape and background kind, any size."""

import numpy as np
import pytest

from training.data import SceneConfig, SyntheticScenes, render_scene
from training.data.errors import DataError
from training.data.shapes import SHAPES, local_coordinates, shape_mask


def test_same_seed_same_pixels_any_order():
    config = SceneConfig(height=40, width=56, seed=7, background="texture", textured=0.5)
    a, b = SyntheticScenes(config, 10), SyntheticScenes(config, 10)
    for i in (9, 3, 0):
        assert (a[i].image == b[i].image).all() and (a[i].mask == b[i].mask).all()
    other = render_scene(SceneConfig(height=40, width=56, seed=8, background="texture"), 3)
    assert not np.array_equal(other.image, a[3].image)


@pytest.mark.parametrize("background", ["fixed", "texture", "gradient"])
def test_masks_are_exact(background):
    ds = SyntheticScenes(SceneConfig(height=48, width=64, background=background, seed=1), 12)
    for sample in ds:
        assert sample.image.shape == (48, 64, 3) and sample.image.dtype == np.uint8
        assert sample.mask.shape == (48, 64)
        outside = sample.mask == 0
        # Off the objects the image is exactly the background; on them it differs.
        assert (sample.image[outside] == sample.background[outside]).all()
        ids = np.unique(sample.mask[~outside])
        assert list(ids) == list(range(1, len(ids) + 1))
        for i in ids:
            diff = np.abs(sample.image.astype(int) - sample.background)[sample.mask == i]
            assert diff.sum(axis=1).mean() > 20


def test_object_counts_and_visibility():
    config = SceneConfig(height=64, width=64, min_objects=2, max_objects=5, min_visible=0.5)
    counts = []
    for sample in SyntheticScenes(config, 40):
        ids = np.unique(sample.mask)
        counts.append(len(ids) - 1)
    assert min(counts) >= 2 and max(counts) == 5
    assert len(set(counts)) >= 3


def test_background_kinds():
    def backgrounds(kind):
        ds = SyntheticScenes(SceneConfig(height=32, width=32, background=kind), 3)
        return [ds[i].background.astype(int) for i in range(3)]

    fixed, texture, gradient = backgrounds("fixed"), backgrounds("texture"), backgrounds("gradient")
    assert (fixed[0] == fixed[2]).all()
    assert np.abs(texture[0] - texture[1]).mean() > 10  # a new texture per image
    step = np.abs(gradient[0] - gradient[1]).mean()
    assert 0 < step < 3  # light changes, slowly


def test_every_shape_rasterises_to_its_expected_area():
    # Polygon areas for circumradius 1, relative to the unit disc, at a large radius.
    star = 10 * 0.5 * 0.45 * np.sin(np.pi / 5)  # ten triangles tip-centre-inner vertex
    areas = {"disc": np.pi, "square": 2.0, "triangle": 3 * np.sqrt(3) / 4, "star": star,
             "hexagon": 3 * np.sqrt(3) / 2, "ring": np.pi * (1 - 0.55**2),
             "cross": 1.8}  # fmt: skip
    expected = {kind: area / np.pi for kind, area in areas.items()}
    for kind in SHAPES:
        _, _, u, v = local_coordinates(401, 401, 200.5, 200.5, 200.0, 0.3)
        area = shape_mask(kind, u, v).sum() / (np.pi * 200.0**2)
        assert area == pytest.approx(expected[kind], rel=0.01), kind


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("height", 4, "at least 8x8"),
        ("max_objects", -1, "min_objects <= max_objects"),
        ("shapes", ("disc", "blob"), "blob"),
        ("background", "sky", "background 'sky'"),
        ("textured", 2.0, "probability"),
    ],
)
def test_bad_config_names_the_field(field, value, message):
    with pytest.raises(DataError, match=message):
        SceneConfig(**{field: value}).validate()
