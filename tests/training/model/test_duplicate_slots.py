"""Two slots drawing one object become one at inference (`model.duplicate_slot_overlap`)."""

import torch

from training.model import ASTSeg
from training.model.duplicate_slots import merge_duplicate_slots
from training.model.renderer import composite_weights


def layered(masks: list[torch.Tensor], log_alpha: list[float]) -> torch.Tensor:
    """Weights [1, K+1, H, W] of slots with these masks, background α = e^0."""
    stacked = torch.stack(masks)[None]
    return composite_weights(torch.tensor([log_alpha]), torch.tensor([[0.0]]), stacked)


def square(y: int, x: int, side: int = 6, size: int = 20) -> torch.Tensor:
    mask = torch.full((size, size), 1e-3)
    mask[y : y + side, x : x + side] = 0.999
    return mask


def test_two_slots_on_one_object_become_the_first_of_them():
    obj, other = square(2, 2), square(12, 12)
    # slots 1 and 3 both draw the first object (slightly different shapes), slot 2 another
    blurred = obj.clone()
    blurred[2:8, 7] = 0.4
    weights = layered([obj, other, blurred], [2.0, 2.0, 2.1])
    before = weights.argmax(dim=1)[0]
    assert set(before[2:8, 2:8].unique().tolist()) == {1, 3}  # the object is split
    merged = merge_duplicate_slots(weights, 0.3)
    assert torch.allclose(merged.sum(dim=1), torch.ones(1, 20, 20), atol=1e-6)
    assert torch.equal(merged[0, 3], torch.zeros(20, 20))  # slot 3 moved onto slot 1
    after = merged.argmax(dim=1)[0]
    assert set(after[2:8, 2:8].unique().tolist()) == {1}
    assert set(after[12:18, 12:18].unique().tolist()) == {2}  # the other object untouched
    assert torch.equal(merged[0, 2], weights[0, 2]) and torch.equal(merged[0, 0], weights[0, 0])


def test_slots_on_separate_objects_and_faint_slots_stay_themselves():
    faint = torch.full((20, 20), 1e-4)  # present nowhere: its self-overlap is tiny
    weights = layered([square(2, 2), square(12, 12), faint], [2.0, 2.0, 0.0])
    assert torch.equal(merge_duplicate_slots(weights, 0.3), weights)


def test_only_inference_merges(tiny_config):
    torch.manual_seed(0)
    config = tiny_config(duplicate_slot_overlap=0.05, log_background_activation=-4.0, s_max=2.0)
    model = ASTSeg(config)
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        model.train()
        trained = model(images).weights
        model.eval()
        inferred = model(images).weights
    # wide glimpses over a random image: every slot claims most pixels, so they merge
    assert torch.allclose(trained.sum(dim=1), inferred.sum(dim=1), atol=1e-5)
    assert (inferred[:, 1:].flatten(2).amax(dim=2) == 0).any()
    assert not (trained[:, 1:].flatten(2).amax(dim=2) == 0).any()


def test_the_threshold_is_checked():
    import pytest

    from training.config import Config, ConfigError

    for bad in (-0.1, 1.0, 2.0):
        with pytest.raises(ConfigError, match="duplicate_slot_overlap"):
            Config.from_dict({"model": {"duplicate_slot_overlap": bad}})
