import numpy as np

from training.data.spec import open_dataset


def test_resize_applies_after_the_synthetic_generation_size():
    drawn = open_dataset("synthetic:size=96x128,objects=3,seed=3,count=2")
    fed = open_dataset("synthetic:size=96x128,objects=3,seed=3,count=2?resize=48x64")
    assert drawn[0].image.shape == (96, 128, 3)
    assert fed[0].image.shape == (48, 64, 3) and fed[0].mask.shape == (48, 64)
    # The same scene, shrunk: the object ids survive nearest-neighbour resizing.
    assert set(np.unique(fed[0].mask)) <= set(np.unique(drawn[0].mask))
    assert abs(float(fed[0].image.mean()) - float(drawn[0].image.mean())) < 2.0
