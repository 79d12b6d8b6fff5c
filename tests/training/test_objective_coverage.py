"""The coverage loss (our addition, not the paper's) and its gating in the objective."""

from __future__ import annotations

import math

import pytest
import torch

from training.config import Config, ConfigError, TrainConfig
from training.losses import coverage_loss, foreground_loss, robust_pixel_error
from training.objective import coverage_factor, foreground_step_loss


def _two_by_two() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Background 0.5 everywhere; the image differs by 0.2 per channel at pixel (0, 0).

    Slot coverage (sum of the slot weights) is 0.5 at (0, 0) and 0.1 elsewhere.
    """
    background = torch.full((1, 3, 2, 2), 0.5)
    images = background.clone()
    images[0, :, 0, 0] = 0.7
    weights = torch.zeros(1, 3, 2, 2)  # background + 2 slots
    weights[0, 1] = 0.05
    weights[0, 2] = 0.05
    weights[0, 1, 0, 0] = 0.3
    weights[0, 2, 0, 0] = 0.2
    weights[0, 0] = 1 - weights[0, 1:].sum(dim=0)
    return weights, images, background


def test_coverage_loss_matches_hand_computation() -> None:
    weights, images, background = _two_by_two()
    # smooth L1 (beta 3) of a 51-level difference is 51 - 1.5 per channel; 3 channels; /255
    error = 3 * (0.2 * 255 - 1.5) / 255
    assert robust_pixel_error(images, background)[0, 0, 0, 0].item() == pytest.approx(error)
    target = math.tanh(error / 0.25)
    expected = ((0.5 - target) ** 2 + 3 * 0.1**2) / 4
    assert coverage_loss(weights, images, background, 0.25).item() == pytest.approx(expected)
    # a larger tau lowers the target at the changed pixel
    target_half = math.tanh(error / 0.5)
    expected_half = ((0.5 - target_half) ** 2 + 3 * 0.1**2) / 4
    assert coverage_loss(weights, images, background, 0.5).item() == pytest.approx(expected_half)


def test_coverage_loss_is_zero_when_coverage_equals_target() -> None:
    _, images, background = _two_by_two()
    target = torch.tanh(robust_pixel_error(images, background) / 0.25)
    weights = torch.cat([1 - target, target], dim=1)
    assert coverage_loss(weights, images, background, 0.25).item() == pytest.approx(0, abs=1e-12)


def test_coverage_loss_gradient_reaches_only_the_weights() -> None:
    weights, images, background = _two_by_two()
    weights.requires_grad_(True)
    background.requires_grad_(True)
    coverage_loss(weights, images, background, 0.25).backward()
    assert background.grad is None or background.grad.abs().sum().item() == 0
    # d/dw_k of mean((c - t)^2) is 2 (c - t) / P for every slot k; w_0 gets nothing
    assert weights.grad[0, 0].abs().sum().item() == 0
    assert weights.grad[0, 1, 1, 1].item() == pytest.approx(2 * 0.1 / 4)
    assert torch.equal(weights.grad[0, 1], weights.grad[0, 2])


def test_coverage_factor_anneals_linearly_to_zero() -> None:
    assert coverage_factor(0, 0) == 0.0
    assert coverage_factor(50, 0) == 0.0
    assert coverage_factor(0, 100) == 1.0
    assert coverage_factor(25, 100) == pytest.approx(0.75)
    assert coverage_factor(100, 100) == 0.0
    assert coverage_factor(400, 100) == 0.0


def test_default_objective_is_the_papers_loss(model_and_batch) -> None:
    model, images, background = model_and_batch
    train = TrainConfig()
    assert train.coverage_weight == 0.0 and train.coverage_steps == 0
    terms, out = foreground_step_loss(model, images, 2_500, train, background=background)
    paper = foreground_loss(out.reconstruction, images, out.weights, 1e-2 * 0.25**2)
    assert terms.coverage is None and terms.coverage_weight == 0.0
    assert terms.total.item() == pytest.approx(paper.total.item(), rel=1e-6)


def test_objective_adds_the_annealed_coverage_term(model_and_batch) -> None:
    model, images, background = model_and_batch
    train = TrainConfig(coverage_weight=2.0, coverage_steps=100, pixel_entropy_warmup_steps=0)
    terms, out = foreground_step_loss(model, images, 25, train, background=background)
    paper = foreground_loss(out.reconstruction, images, out.weights, 1e-2)
    cover = coverage_loss(out.weights, images, background, 0.25)
    assert terms.coverage_weight == pytest.approx(1.5)
    assert terms.coverage is not None
    assert terms.coverage.item() == pytest.approx(cover.item(), rel=1e-6)
    assert terms.total.item() == pytest.approx(paper.total.item() + 1.5 * cover.item(), rel=1e-6)
    # past the anneal the objective is the paper's again
    late, out_late = foreground_step_loss(model, images, 100, train, background=background)
    assert late.coverage is None
    plain = foreground_loss(out_late.reconstruction, images, out_late.weights, 1e-2)
    assert late.total.item() == pytest.approx(plain.total.item(), rel=1e-6)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("train.coverage_weight", -0.1),
        ("train.coverage_steps", -1),
        ("train.coverage_tau", 0.0),
    ],
)
def test_config_rejects_bad_coverage_values(key: str, value: float) -> None:
    with pytest.raises(ConfigError, match=key.split(".")[1].split("_")[0]):
        Config().with_overrides({key: value})


def test_the_step_loss_uses_the_late_pixel_entropy_weight_from_its_step(tiny_config) -> None:
    """foreground_step_loss reports the λ_pixel it used: the warmed-up weight before
    `pixel_entropy_late_from`, the late weight from it on."""
    import torch

    from training.config import TrainConfig
    from training.model import ASTSeg
    from training.objective import foreground_step_loss

    torch.manual_seed(0)
    config = tiny_config()
    model = ASTSeg(config)
    images = torch.rand(2, 3, config.image_height, config.image_width)
    train = TrainConfig(
        pixel_entropy_weight=0.1,
        pixel_entropy_warmup_steps=0,
        pixel_entropy_late_weight=0.01,
        pixel_entropy_late_from=100,
    )
    early, _ = foreground_step_loss(model, images, 99, train)
    late, _ = foreground_step_loss(model, images, 100, train)
    assert early.pixel_entropy_weight == 0.1
    assert late.pixel_entropy_weight == 0.01
