import pytest
import torch

from training.losses import background_is_complex, background_loss, robust_pixel_error
from training.model.background import BackgroundModel, down_schedule


@pytest.mark.parametrize("size", [(32, 32), (64, 64), (96, 160), (33, 47), (240, 320)])
def test_background_model_reproduces_any_size(size):
    model = BackgroundModel(*size)
    background, error = model(torch.rand(2, 3, *size))
    assert background.shape == (2, 3, *size)
    assert error.shape == (2, 1, *size)
    assert background.min().item() >= 0 and background.max().item() <= 1
    assert down_schedule(*size)[-1].size_out == (1, 1)


def test_large_images_use_stride_three():
    assert down_schedule(240, 320)[0].stride == (3, 3)
    assert down_schedule(128, 128)[0].stride == (2, 2)


def test_robust_error_is_on_the_0_to_3_scale():
    images = torch.ones(1, 3, 4, 4)
    assert robust_pixel_error(images, torch.zeros_like(images)).max().item() == pytest.approx(
        3 * (255 - 1.5) / 255
    )
    assert robust_pixel_error(images, images).max().item() == 0.0


def test_background_loss_downweights_a_foreground_blob():
    """A large error on a blob costs much less than the same error spread thinly."""
    bg = torch.zeros(1, 3, 64, 64)
    blob = bg.clone()
    blob[..., 20:40, 20:40] = 1.0
    zeros_err = torch.zeros(1, 1, 64, 64)
    blob_loss = background_loss(blob, bg, zeros_err)
    err = robust_pixel_error(blob, bg)
    unweighted = err.mean() + torch.nn.functional.smooth_l1_loss(zeros_err, err / 3)
    assert blob_loss < 0.5 * unweighted


def test_complexity_test_separates_fixed_from_changing_backgrounds():
    torch.manual_seed(0)
    fixed = torch.rand(1, 3, 32, 32).expand(16, -1, -1, -1)
    assert not background_is_complex(fixed)
    assert background_is_complex(torch.rand(16, 3, 32, 32))
