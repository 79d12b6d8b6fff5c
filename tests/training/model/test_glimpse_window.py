"""`model.glimpse_window`: a glimpse's mask can only draw near the slot's position."""

from __future__ import annotations

import math

import torch

from training.model.glimpse_generator import GlimpseGenerator, centred_window


def test_the_window_is_one_at_the_centre_e_inverse_at_its_radius_and_gone_past_it() -> None:
    g = 64
    window = centred_window(g, 0.8)
    centres = (torch.arange(g, dtype=torch.float64) * 2 + 1) / g - 1
    v, u = torch.meshgrid(centres, centres, indexing="ij")
    r = torch.sqrt(u**2 + v**2)
    expected = torch.exp(-((r / 0.8) ** 4))
    torch.testing.assert_close(window.double(), expected, rtol=1e-6, atol=1e-7)
    assert window.max().item() > 0.999  # the four centre pixels, r = 1/64 · √2
    assert window[0, 0].item() < math.exp(-((1.38 / 0.8) ** 4))  # the corners, r = 1.39
    assert torch.equal(window, window.flip(0)) and torch.equal(window, window.T)


def test_only_the_mask_is_windowed_and_old_weights_load() -> None:
    torch.manual_seed(0)
    plain = GlimpseGenerator(8, 32)
    windowed = GlimpseGenerator(8, 32, window=0.8)
    windowed.load_state_dict(plain.state_dict())  # the window is no weight: same names
    z = torch.randn(5, 8)
    a, b = plain(z), windowed(z)
    torch.testing.assert_close(b[:, :3], a[:, :3])
    torch.testing.assert_close(b[:, 3], a[:, 3] * centred_window(32, 0.8))
    assert "window" not in windowed.state_dict()
