import math

import pytest
import torch

from training.losses import pixel_entropy_loss, reconstruction_loss
from training.model.renderer import Renderer, composite_weights
from training.model.spatial_transformer import GlimpsePlacer


def test_weights_are_a_distribution_and_segmentation_is_their_argmax(tiny_config):
    torch.manual_seed(0)
    renderer = Renderer(tiny_config(num_slots=5))
    from training.model.latents import SlotLatents

    n, k = 3, 5
    latents = SlotLatents(
        position=torch.rand(n, k, 2) * 2 - 1,
        scale=torch.full((n, k, 2), 2.0),
        log_activation=torch.randn(n, k) * 3 + 11,
        z_what=torch.randn(n, k, 8),
    )
    rendering = renderer(latents)
    w = rendering.weights
    assert w.shape == (n, k + 1, 64, 64)
    assert (w >= 0).all()
    assert torch.allclose(w.sum(dim=1), torch.ones(n, 64, 64), atol=1e-6)
    assert torch.equal(rendering.segmentation(), w.argmax(dim=1))


def test_slot_with_vanishing_activation_owns_no_pixel():
    masks = torch.ones(1, 2, 8, 8)  # both slots cover every pixel
    log_alpha = torch.tensor([[5.0, -60.0]])  # slot 2: α -> 0
    w = composite_weights(log_alpha, torch.tensor([[0.0]]), masks)
    assert w[0, 2].max() < 1e-20
    assert (w.argmax(dim=1) != 2).all()


def test_huge_activations_do_not_overflow():
    masks = torch.rand(2, 3, 8, 8)
    w = composite_weights(torch.full((2, 3), 500.0), torch.tensor([[11.0]]), masks)
    assert torch.isfinite(w).all()
    assert torch.allclose(w.sum(dim=1), torch.ones(2, 8, 8), atol=1e-6)


@pytest.mark.parametrize(
    ("x", "y", "sx", "sy", "h", "w"),
    [(0.0, 0.0, 4.0, 4.0, 64, 64), (0.5, -0.25, 3.0, 6.0, 64, 64), (-0.4, 0.3, 5.0, 2.5, 96, 160)],
)
def test_glimpse_lands_centred_with_expected_extent(x, y, sx, sy, h, w):
    placer = GlimpsePlacer(h, w)
    glimpse = torch.ones(1, 1, 32, 32)
    mask = placer(glimpse, torch.tensor([[x, y]]), torch.tensor([[sx, sy]]))[0, 0]
    rows, cols = torch.meshgrid(
        torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij"
    )
    mass = mask.sum()
    centre_col = (mask * cols).sum() / mass
    centre_row = (mask * rows).sum() / mass
    # pixel i has centre u = (2i + 1) / W - 1  ->  i = ((u + 1) W - 1) / 2
    assert centre_col == pytest.approx(((x + 1) * w - 1) / 2, abs=0.05)
    assert centre_row == pytest.approx(((y + 1) * h - 1) / 2, abs=0.05)
    # A glimpse spans 2/s of the [-1, 1] range, i.e. W/s pixels (mass of a bilinear box).
    assert mask.sum(dim=1).max() == pytest.approx(w / sx, abs=1.0)
    assert mask.sum(dim=0).max() == pytest.approx(h / sy, abs=1.0)


def test_pixel_entropy_is_zero_for_one_hot_and_log_k_squared_for_uniform():
    k_plus_1 = 6
    one_hot = torch.zeros(2, k_plus_1, 5, 5)
    one_hot[:, 2] = 1.0
    assert pixel_entropy_loss(one_hot).item() == pytest.approx(0.0, abs=1e-12)
    uniform = torch.full((2, k_plus_1, 5, 5), 1.0 / k_plus_1, dtype=torch.float64)
    assert pixel_entropy_loss(uniform).item() == pytest.approx(math.log(k_plus_1) ** 2, rel=1e-9)


def test_reconstruction_loss_matches_eq20_by_hand():
    images = torch.zeros(1, 3, 1, 2)
    recon = torch.zeros(1, 3, 1, 2)
    recon[0, :, 0, 0] = torch.tensor([0.1, -0.2, 0.3])  # l = 0.6
    recon[0, :, 0, 1] = torch.tensor([0.5, 0.0, 0.0])  # l = 0.5
    expected = (0.6**2 + 0.5**2) / 2
    assert reconstruction_loss(recon, images).item() == pytest.approx(expected, rel=1e-6)
