import pytest
import torch

from training.config import TrainConfig
from training.model import ASTSeg
from training.objective import foreground_step_loss

SHAPES = [(64, 64), (128, 128), (96, 160)]


@pytest.mark.parametrize("generator", ["segformer", "unet"])
@pytest.mark.parametrize("size", SHAPES)
@pytest.mark.parametrize("k", [1, 3, 10])
def test_output_shapes(tiny_config, generator, size, k):
    scaling = "isotropic" if k == 3 else "anisotropic"
    cfg = tiny_config(
        image_height=size[0],
        image_width=size[1],
        num_slots=k,
        feature_generator=generator,
        scaling=scaling,
        use_transformer=k != 10,
    )
    model = ASTSeg(cfg).eval()
    with torch.no_grad():
        out = model(torch.rand(2, 3, *size))
    s = 1 if scaling == "isotropic" else 2
    assert out.latents.position.shape == (2, k, 2)
    assert out.latents.scale.shape == (2, k, s)
    assert out.latents.log_activation.shape == (2, k)
    assert out.latents.z_what.shape == (2, k, cfg.z_what_dim)
    assert out.weights.shape == (2, k + 1, *size)
    assert out.segmentation().shape == (2, *size)
    assert out.reconstruction.shape == (2, 3, *size)
    assert out.background.shape == (2, 3, *size)
    assert out.latents.position.abs().max() <= 1.0
    assert out.latents.scale.min() >= cfg.s_min
    assert out.latents.scale.max() <= cfg.s_max


@pytest.mark.parametrize("generator", ["segformer", "unet"])
@pytest.mark.parametrize("scaling", ["isotropic", "anisotropic"])
@pytest.mark.parametrize("use_transformer", [True, False])
def test_every_parameter_gets_a_gradient_from_the_full_loss(
    tiny_config, generator, scaling, use_transformer
):
    torch.manual_seed(0)
    cfg = tiny_config(
        feature_generator=generator,
        scaling=scaling,
        use_transformer=use_transformer,
        # Slots start as visible as the background so every path carries gradient.
        log_background_activation=0.0,
    )
    model = ASTSeg(cfg).train()
    terms, _ = foreground_step_loss(
        model, torch.rand(2, 3, 64, 64), step=20_000, train=TrainConfig()
    )
    terms.total.backward()
    missing = [
        name
        for name, p in model.named_parameters()
        if p.requires_grad
        and (p.grad is None or p.grad.abs().sum() == 0)
        and not name.startswith("background.")
    ]
    assert missing == []
    # The background model is trained through the reconstruction term as well.
    bg_grads = [p.grad for p in model.background.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in bg_grads)
    assert sum(float(g.abs().sum()) for g in bg_grads) > 0


def test_isotropic_activation_is_read_from_its_own_channel(tiny_config):
    """The activation follows the single scale value; it is not the first z_what channel."""
    cfg = tiny_config(scaling="isotropic", use_transformer=False)
    model = ASTSeg(cfg).eval()
    enc = model.encoder
    captured = {}

    def hook(_module, _inputs, output):
        captured["maps"] = output

    enc.map_generator.register_forward_hook(hook)
    with torch.no_grad():
        lat = enc(torch.rand(1, 3, 64, 64))
    k = cfg.num_slots
    weights = torch.softmax(captured["maps"][:, :k].flatten(2), -1)
    pooled = torch.einsum("nkp,ncp->nkc", weights, captured["maps"][:, k:].flatten(2))
    assert torch.allclose(lat.log_activation, pooled[..., 1], atol=1e-6)
    assert torch.allclose(lat.z_what, pooled[..., 2:], atol=1e-6)


def test_rejects_images_of_the_wrong_size(tiny_config):
    model = ASTSeg(tiny_config())
    with pytest.raises(ValueError, match="expects"):
        model(torch.rand(1, 3, 32, 32))
