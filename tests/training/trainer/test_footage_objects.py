"""K and the slot input size from the footage (`model.slots_from_data`, issue 22)."""

import numpy as np
import pytest

from training.data.sample import Sample, SampleDataset
from training.presets import preset_config
from training.trainer.footage_objects import (
    MAX_SIDE_FACTOR,
    measure_footage_objects,
    sample_frames,
    slots_from_footage,
)
from training.trainer.options import resolve_config


def camera(objects: int, frames: int = 40, side: int = 12, size=(120, 160), seed=0) -> np.ndarray:
    """A fixed textured scene with sensor noise and `objects` squares moving across it."""
    rng = np.random.default_rng(seed)
    height, width = size
    scene = rng.integers(40, 120, (height, width, 3)).astype(np.float32)
    clips = []
    for t in range(frames):
        frame = scene + rng.normal(0, 3, scene.shape)
        for k in range(objects):
            y = 10 + (k * 37) % (height - side - 20)
            x = (5 + 3 * t + k * (width // max(objects, 1))) % (width - side)
            frame[y : y + side, x : x + side] = 250 - 12 * k  # all far from the scene
        clips.append(np.clip(frame, 0, 255).astype(np.uint8))
    return np.stack(clips)


class Frames(SampleDataset):
    def __init__(self, frames: np.ndarray) -> None:
        self.frames = frames

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> Sample:
        return Sample(image=self.frames[index])


@pytest.mark.parametrize("objects", [1, 3, 6])
def test_objects_in_view_are_counted(objects):
    found = measure_footage_objects(camera(objects))
    assert found.fixed_scene
    assert found.objects_p95 == objects
    # 12-pixel squares on a 160-pixel frame (the opening trims nothing from a square)
    assert found.object_side_share == pytest.approx(12 / 160, abs=1 / 160)


def test_k_follows_the_footage_and_the_line_says_so():
    config = preset_config("cpu")
    found = measure_footage_objects(camera(6))
    chosen, line = slots_from_footage(config, found)
    assert chosen.model.num_slots == 8  # a quarter above the count: touching objects merge
    assert not chosen.model.slots_from_data  # settled: the saved config states K
    assert "K = 8" in line and "6.0 objects" in line
    # Never below the preset's K.
    few, line = slots_from_footage(config, measure_footage_objects(camera(1)))
    assert few.model.num_slots == config.model.num_slots == 4
    assert "K stays the preset's 4" in line


def test_small_objects_grow_the_slot_input_within_its_cap():
    config = preset_config("cpu")  # 64 px on the long side
    found = measure_footage_objects(camera(3, side=10, size=(240, 320)))  # 10 px of 320
    chosen, line = slots_from_footage(config, found)
    side = max(chosen.model.image_height, chosen.model.image_width)
    assert side == MAX_SIDE_FACTOR * 64  # 8-pixel objects would need 256: capped
    assert "slot input 128 px" in line
    # Large objects keep the preset's size.
    roomy, _ = slots_from_footage(config, measure_footage_objects(camera(2, side=30)))
    assert max(roomy.model.image_height, roomy.model.image_width) == 64


def test_unrelated_images_keep_the_preset_k():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (30, 64, 64, 3)).astype(np.uint8)
    found = measure_footage_objects(images)
    assert not found.fixed_scene
    chosen, line = slots_from_footage(preset_config("cpu"), found)
    assert chosen.model.num_slots == preset_config("cpu").model.num_slots
    assert "do not share one fixed scene" in line


def test_frames_are_sampled_across_the_footage_at_a_working_size():
    frames = sample_frames(Frames(camera(2, frames=100, size=(480, 640))), count=10)
    assert frames.shape == (10, 240, 320, 3)


def test_a_stated_k_is_kept():
    assert not resolve_config("cpu", slots=7).model.slots_from_data
    assert not resolve_config("cpu", sets=["model.num_slots=5"]).model.slots_from_data
    assert resolve_config("cpu").model.slots_from_data
    assert not resolve_config("clevrtex").model.slots_from_data  # paper presets: never


def test_a_few_frames_cannot_show_a_fixed_scene():
    found = measure_footage_objects(camera(3, frames=2))
    assert not found.fixed_scene
    chosen, line = slots_from_footage(preset_config("cpu"), found)
    assert chosen.model.num_slots == 4 and "only 2 frames" in line


def test_a_large_slot_input_does_not_grow():
    """The `video` preset's 224 px input already shows small objects: no growth there."""
    config = preset_config("video")
    found = measure_footage_objects(camera(3, side=10, size=(240, 320)))
    chosen, _ = slots_from_footage(config, found)
    assert (chosen.model.image_height, chosen.model.image_width) == (
        config.model.image_height,
        config.model.image_width,
    )
