"""The slot-redundancy cost (our addition, issue 22): what a slot adds over the others."""

from __future__ import annotations

import math

import pytest
import torch

from training.config import Config, ConfigError, TrainConfig
from training.losses import foreground_loss
from training.model.renderer import composite_weights
from training.objective import foreground_step_loss
from training.slot_redundancy import redundancy_loss

SIDE = 8


def _scene(
    drawn_by: list[torch.Tensor], log_activation: list[float], dtype: torch.dtype = torch.float32
):
    """A grey 8×8 background with a red square at rows/cols 2-5; slot k draws red where
    drawn_by[k] is 1 (its mask), composited by eq 17 with log α_0 = 0."""
    background = torch.full((1, 3, SIDE, SIDE), 0.5, dtype=dtype)
    images = background.clone()
    images[0, :, 2:6, 2:6] = torch.tensor([1.0, 0.0, 0.0], dtype=dtype)[:, None, None]
    masks = torch.stack(drawn_by)[None].to(dtype)  # [1, K, H, W]
    layers = torch.zeros(1, len(drawn_by), 3, SIDE, SIDE, dtype=dtype)
    layers[:, :, 0] = 1.0  # every slot paints red
    logs = torch.tensor([log_activation], dtype=dtype)
    weights = composite_weights(logs, torch.zeros(1, 1, dtype=dtype), masks)
    return weights, layers, background, images


def _square(rows: slice = slice(2, 6), cols: slice = slice(2, 6)) -> torch.Tensor:
    mask = torch.zeros(SIDE, SIDE)
    mask[rows, cols] = 1.0
    return mask


def _error(drawing: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    return (drawing - images).abs().sum(dim=1).square().sum()


def test_gain_is_the_error_removed_per_owned_pixel() -> None:
    """g_k against the scene composited again without slot k (its α set to 0). In float64:
    slot 1's gain (about 5e-7) is a difference of errors near 1 that float32 rounds by 6e-8,
    so two float32 routes to it may differ by 10 %; float64 leaves 1e-16 of that."""
    activations = [8.0, 6.0]
    weights, layers, background, images = _scene(
        [_square(), _square(cols=slice(2, 4))], activations, torch.float64
    )
    _, gain = redundancy_loss(weights, layers, background, images, tau=0.1)
    colours = torch.cat([background[:, None], layers], dim=1)
    full = _error((weights[:, :, None] * colours).sum(dim=1), images)
    for k in range(2):
        dropped = list(activations)
        dropped[k] = -math.inf
        masks = torch.stack([_square(), _square(cols=slice(2, 4))])[None].double()
        logs = torch.tensor([dropped], dtype=torch.float64)
        without = composite_weights(logs, torch.zeros(1, 1, dtype=torch.float64), masks)
        removed = _error((without[:, :, None] * colours).sum(dim=1), images) - full
        expected = removed / weights[0, k + 1].sum()
        assert gain[0, k].item() == pytest.approx(expected.item(), rel=1e-6)


def test_a_duplicate_removes_little_and_a_lone_slot_removes_its_contrast() -> None:
    weights, layers, background, images = _scene([_square(), _square()], [8.0, 8.0])
    _, twins = redundancy_loss(weights, layers, background, images, tau=0.1)
    weights, layers, background, images = _scene([_square(), torch.zeros(SIDE, SIDE)], [8.0, 8.0])
    _, alone = redundancy_loss(weights, layers, background, images, tau=0.1)
    # red against grey: |0.5| + |0.5| + |0.5| = 1.5 per pixel, squared 2.25
    assert alone[0, 0].item() == pytest.approx(2.25, rel=1e-3)
    assert twins.abs().max().item() < 1e-3


def test_halves_are_not_redundant() -> None:
    left, right = _square(cols=slice(2, 4)), _square(cols=slice(4, 6))
    weights, layers, background, images = _scene([left, right], [8.0, 8.0])
    loss, gain = redundancy_loss(weights, layers, background, images, tau=0.1)
    assert gain.min().item() == pytest.approx(2.25, rel=1e-3)
    assert loss.item() < 1e-8  # exp(-22.5) times the shares


def test_the_cost_pulls_the_twins_weights_down_only() -> None:
    weights, layers, background, images = _scene([_square(), _square()], [8.0, 8.0])
    weights.requires_grad_(True)
    loss, _ = redundancy_loss(weights, layers, background, images, tau=0.1)
    loss.backward()
    assert weights.grad is not None
    # d/dw_k of Σ_k r_k·mean(w_k) is r_k / (H·W) for the slots (r ≈ 1 for twins), 0 for w_0
    assert torch.all(weights.grad[0, 0] == 0)
    expected = 1.0 / SIDE**2
    assert weights.grad[0, 1:].min().item() == pytest.approx(expected, rel=1e-2)


def test_a_lone_slot_feels_no_pull() -> None:
    weights, layers, background, images = _scene(
        [_square(cols=slice(2, 4)), _square(cols=slice(4, 6))], [8.0, 8.0]
    )
    weights.requires_grad_(True)
    redundancy_loss(weights, layers, background, images, tau=0.015)[0].backward()
    assert weights.grad is not None
    # exp(-2.25 / 0.015) underflows: neither half is pulled
    assert weights.grad.abs().max().item() < 1e-12


def _blue_square_scene() -> tuple[torch.Tensor, ...]:
    """One slot alone on the red square but drawing it blue (a slot still learning its
    object): taking it away hands its pixels to the grey background, which is closer."""
    weights, layers, background, images = _scene([_square(), torch.zeros(SIDE, SIDE)], [8.0, 8.0])
    layers[:, :, 0], layers[:, :, 2] = 0.0, 1.0
    return weights, layers, background, images


def test_a_lone_learning_slot_is_pulled_by_the_plain_cost_only() -> None:
    """The plain cost pulls any slot that removes nothing, so it pushes a slot off an object
    it is still learning and the background layer takes the object; `shared_only` pulls
    only on the pixels another slot would take over, and here there are none."""
    for shared_only, pulled in ((False, True), (True, False)):
        weights, layers, background, images = _blue_square_scene()
        weights.requires_grad_(True)
        _, gain = redundancy_loss(weights, layers, background, images, 0.015, shared_only)
        assert gain[0, 0].item() < 0  # blue over red is worse than the grey background
        redundancy_loss(weights, layers, background, images, 0.015, shared_only)[0].backward()
        assert weights.grad is not None
        # plain: r = 1 and d/dw = 1/(H·W); shared_only: the other slot's weight under the
        # square is e^8·0 against the background's e^0, so the pixels go to the background
        if pulled:
            assert weights.grad[0, 1].max().item() == pytest.approx(1.0 / SIDE**2, rel=1e-6)
        else:
            assert weights.grad[0, 1].abs().max().item() < 1e-12


def test_shared_only_still_pulls_twins() -> None:
    """Twins hand each other their pixels: the other slot's weight under the square is e^8
    against the background's 1, so the pull is the plain one times e^8 / (e^8 + 1)."""
    weights, layers, background, images = _scene([_square(), _square()], [8.0, 8.0])
    weights.requires_grad_(True)
    redundancy_loss(weights, layers, background, images, 0.1, shared_only=True)[0].backward()
    assert weights.grad is not None
    inside = weights.grad[0, 1:, 2:6, 2:6]
    handed = math.exp(8.0) / (math.exp(8.0) + 1.0)
    assert inside.min().item() == pytest.approx(handed / SIDE**2, rel=1e-2)
    # outside the square the slots' masks are 0 and the background would take it all
    assert weights.grad[0, 1:, 0, 0].abs().max().item() < 1e-12


def test_the_loss_is_the_mean_over_images() -> None:
    twins = _scene([_square(), _square()], [8.0, 8.0])
    halves = _scene([_square(cols=slice(2, 4)), _square(cols=slice(4, 6))], [8.0, 8.0])
    batch = [torch.cat([a, b]) for a, b in zip(twins, halves, strict=True)]
    both, gain = redundancy_loss(*batch, tau=0.015)
    one, _ = redundancy_loss(*twins, tau=0.015)
    other, _ = redundancy_loss(*halves, tau=0.015)
    assert gain.shape == (2, 2)
    assert both.item() == pytest.approx((one.item() + other.item()) / 2, rel=1e-6)
    assert one.item() > 0.1  # two twins of 16 px in 64 with pulls near 1: about 0.5


def test_owned_pixels_keep_their_other_layers_exactly() -> None:
    """A slot that owns a pixel to within float32 rounding still gets its gain from the
    other layers' true weights, not from 1 − w_k (which would be 0 there)."""
    weights, layers, background, images = _scene([_square(), torch.zeros(SIDE, SIDE)], [40.0, 0.0])
    assert (1.0 - weights[0, 1, 3, 3]).item() == 0.0  # w_1 rounds to 1
    _, gain = redundancy_loss(weights, layers, background, images, tau=0.1)
    assert torch.isfinite(gain).all()
    assert gain[0, 0].item() == pytest.approx(2.25, rel=1e-3)


def _with_redundancy(start: int, shared_only: bool = False) -> TrainConfig:
    """λ 0.5 and τ 0.05 from foreground step `start`, pixel entropy at full weight."""
    return TrainConfig(
        redundancy_weight=0.5,
        redundancy_start=start,
        redundancy_tau=0.05,
        redundancy_shared_only=shared_only,
        pixel_entropy_warmup_steps=0,
    )


def test_objective_adds_the_term_from_its_start_step(model_and_batch) -> None:
    model, images, background = model_and_batch
    train = _with_redundancy(start=100)
    early, out = foreground_step_loss(model, images, 99, train, background=background)
    assert early.redundancy is None
    plain = foreground_loss(out.reconstruction, images, out.weights, 1e-2)
    assert early.total.item() == pytest.approx(plain.total.item(), rel=1e-6)
    terms, out = foreground_step_loss(model, images, 100, train, background=background)
    paper = foreground_loss(out.reconstruction, images, out.weights, 1e-2)
    redundant, _ = redundancy_loss(out.weights, out.rendering.layers, out.background, images, 0.05)
    # the term (about 2e-4 here) must show above the total's rel 1e-6 (total about 0.5)
    assert redundant.item() > 1e-5
    assert terms.redundancy is not None and terms.redundancy_weight == 0.5
    assert terms.total.item() == pytest.approx(
        paper.total.item() + 0.5 * redundant.item(), rel=1e-6
    )


def test_objective_passes_shared_only_through(model_and_batch) -> None:
    model, images, background = model_and_batch
    train = _with_redundancy(start=0, shared_only=True)
    terms, out = foreground_step_loss(model, images, 0, train, background=background)
    args = (out.weights, out.rendering.layers, out.background, images, 0.05)
    shared, _ = redundancy_loss(*args, shared_only=True)
    plain, _ = redundancy_loss(*args)
    assert terms.redundancy is not None
    assert terms.redundancy.item() == pytest.approx(shared.item(), rel=1e-6)
    assert shared.item() < plain.item()  # the background layer takes part of every pixel


def test_the_default_objective_has_no_redundancy_term(model_and_batch) -> None:
    model, images, background = model_and_batch
    terms, _ = foreground_step_loss(model, images, 5_000, TrainConfig(), background=background)
    assert terms.redundancy is None and terms.redundancy_weight == 0.0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("train.redundancy_weight", -0.1),
        ("train.redundancy_start", -1),
        ("train.redundancy_tau", 0.0),
    ],
)
def test_config_rejects_bad_redundancy_values(key: str, value: float) -> None:
    with pytest.raises(ConfigError, match=key):
        Config().with_overrides({key: value})


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_autocast_does_not_touch_the_measure(dtype: torch.dtype) -> None:
    """Under mixed precision the leave-one-out sums stay float32: in float16 the other
    layers' weights under an owned pixel (4e-18 here) would be 0 and the gain 0/0."""
    scene = _scene([_square(), torch.zeros(SIDE, SIDE)], [40.0, 0.0])
    plain_loss, plain_gain = redundancy_loss(*scene, tau=0.015)
    with torch.autocast(device_type="cpu", dtype=dtype):
        loss, gain = redundancy_loss(*scene, tau=0.015)
    assert torch.equal(gain, plain_gain)
    assert loss.item() == plain_loss.item()
