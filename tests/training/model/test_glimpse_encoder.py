"""The crop glimpse encoder (issue 22): each slot reads the window its glimpse is drawn into."""

import pytest
import torch

from training.config import TrainConfig
from training.model import ASTSeg
from training.model.glimpse_encoder import GlimpseEncoder
from training.model.spatial_transformer import GlimpsePlacer, base_grid
from training.objective import foreground_step_loss

# Bilinear sampling reproduces a linear function exactly; what is left is float32 rounding
# of values of order 1 (a few ulps of 2^-23 ≈ 1.2e-7).
LINEAR_TOLERANCE = 1e-6


def ramp(height: int, width: int) -> torch.Tensor:
    """[1, 3, H, W]: three different linear functions of the pixel-centre coordinates."""
    grid = base_grid(height, width)
    u, v = grid[:, 0], grid[:, 1]
    channels = [0.3 * u - 0.7 * v + 0.1, -0.2 * u + 0.5 * v, 0.9 * u + 0.05]
    return torch.stack(channels).view(1, 3, height, width)


def test_the_crop_is_the_input_under_the_slot_window():
    encoder = GlimpseEncoder(z_what_dim=8, glimpse_size=32)
    position = torch.tensor([[[0.2, -0.1], [-0.4, 0.3]]])
    scale = torch.tensor([[[3.0, 2.5], [4.0, 4.0]]])
    crops = encoder.crops(ramp(32, 48), position, scale)
    assert crops.shape == (2, 3, 32, 32)
    g = base_grid(32, 32)
    for slot in range(2):
        (x, y), (sx, sy) = position[0, slot], scale[0, slot]
        u, v = x + g[:, 0] / sx, y + g[:, 1] / sy  # the window drawn into is x ± 1/s
        expected = torch.stack([0.3 * u - 0.7 * v + 0.1, -0.2 * u + 0.5 * v, 0.9 * u + 0.05])
        got = crops[slot].reshape(3, -1)
        assert (got - expected).abs().max() <= LINEAR_TOLERANCE


def test_placing_the_crop_back_reproduces_the_input_inside_the_window():
    """Crop and placement are inverse maps: the renderer draws a perfect glimpse exactly
    where the encoder read it."""
    height, width = 32, 48
    image = ramp(height, width)
    encoder = GlimpseEncoder(z_what_dim=8, glimpse_size=32)
    position, scale = torch.tensor([[[0.1, 0.05]]]), torch.tensor([[[2.0, 1.6]]])
    crop = encoder.crops(image, position, scale)
    placed = GlimpsePlacer(height, width)(crop, position[0], scale[0])
    grid = base_grid(height, width)
    # Strictly inside the window (a pixel's margin): outside it the placer gives zeros and
    # at its edge bilinear sampling mixes in the zero padding.
    inside_u = (grid[:, 0] - 0.1).abs() * 2.0 < 1 - 4 / 32
    inside_v = (grid[:, 1] - 0.05).abs() * 1.6 < 1 - 4 / 32
    inside = (inside_u & inside_v).view(height, width)
    assert inside.sum() > 200
    difference = (placed[0] - image[0])[:, inside]
    assert difference.abs().max() <= 4 * LINEAR_TOLERANCE


def test_crop_mode_adds_the_encoder_and_the_paper_mode_does_not(tiny_config):
    paper = ASTSeg(tiny_config())
    crop = ASTSeg(tiny_config(glimpse_encoder="crop"))
    assert not any(name.startswith("encoder.glimpse_encoder") for name in paper.state_dict())
    added = [n for n in crop.state_dict() if n.startswith("encoder.glimpse_encoder")]
    assert added
    # Everything else is the paper model's, name for name: old checkpoints still load.
    assert set(crop.state_dict()) - set(added) == set(paper.state_dict())


def test_the_crop_code_changes_z_what_and_learns_from_the_loss(tiny_config):
    torch.manual_seed(0)
    cfg = tiny_config(glimpse_encoder="crop", log_background_activation=0.0)
    model = ASTSeg(cfg).train()
    images = torch.rand(2, 3, 64, 64)
    terms, out = foreground_step_loss(model, images, step=20_000, train=TrainConfig())
    terms.total.backward()
    for name, param in model.encoder.glimpse_encoder.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    # z_what depends on the pixels under each window, not only on the pooled features.
    with torch.no_grad():
        model.eval()
        first = model.encoder(images)
        encoder = model.encoder.glimpse_encoder
        shifted = encoder(images.flip(-1), first.position, first.scale)
        unshifted = encoder(images, first.position, first.scale)
    assert not torch.allclose(shifted, unshifted)


@pytest.mark.parametrize("bad", ["pixels", "", "CROP"])
def test_an_unknown_encoder_is_one_clear_config_error(tiny_config, bad):
    from training.config import ConfigError

    with pytest.raises(ConfigError, match="glimpse_encoder"):
        from training.config import Config

        Config.from_dict({"model": {"glimpse_encoder": bad}})


def test_isotropic_windows_and_one_sampling_per_image_give_each_slot_its_own_crop():
    """Scale [N, K, 1] (isotropic) and several images: slot k of image n reads image n."""
    encoder = GlimpseEncoder(z_what_dim=8, glimpse_size=16)
    images = torch.stack([ramp(24, 24)[0], 2.0 * ramp(24, 24)[0]])
    position = torch.tensor([[[0.1, 0.2], [-0.3, 0.0]], [[0.1, 0.2], [0.5, -0.5]]])
    scale = torch.tensor([[[2.0], [3.0]], [[2.0], [3.0]]])  # windows inside the image
    crops = encoder.crops(images, position, scale).view(2, 2, 3, 16, 16)
    assert torch.allclose(crops[1, 0], 2.0 * crops[0, 0], atol=LINEAR_TOLERANCE)
    g = base_grid(16, 16)
    for n in range(2):
        for slot in range(2):
            (x, y), s = position[n, slot], scale[n, slot, 0]
            u, v = x + g[:, 0] / s, y + g[:, 1] / s
            expected = (n + 1.0) * (0.3 * u - 0.7 * v + 0.1)
            assert (crops[n, slot, 0].reshape(-1) - expected).abs().max() <= 4 * LINEAR_TOLERANCE
