"""Light matching before the foreground rule (sdk.fixed_camera.illumination) and its training twin
(training.relight): a frame under other light than the background's is no foreground."""

from __future__ import annotations

import numpy as np
import torch

from sdk.fixed_camera.foreground import ForegroundRule, foreground_mask
from sdk.fixed_camera.illumination import illumination_gain, match_illumination
from training.relight import match_illumination as match_illumination_torch


def _scene(seed: int = 0) -> np.ndarray:
    """A textured background, RGB [3, 120, 160] on the 0-255 scale."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(60, 200, size=(3, 1, 1))
    texture = rng.normal(0, 12, size=(3, 120, 160))
    return np.clip(base + texture, 0, 255).astype(np.float32)


def _uneven_light(height: int, width: int) -> np.ndarray:
    """70 % of the light on the left edge, 85 % on the right, a little warmer (red up).

    The gains are held flat beyond the outer cells' centres, so a steeper fall-off would
    leave its outer quarter wrongly lit by more than the rule's 10 % margin."""
    ramp = np.linspace(0.7, 0.85, width, dtype=np.float32)[None, None, :]
    colour = np.array([1.05, 1.0, 0.9], dtype=np.float32)[:, None, None]
    return np.broadcast_to(ramp * colour, (3, height, width))


def test_a_steady_scene_keeps_its_background() -> None:
    background = _scene()
    frame = background.astype(np.uint8)
    gain = illumination_gain(frame.astype(np.float32), background)
    assert np.abs(gain - 1).max() < 0.02  # one grey level of rounding in ~100
    np.testing.assert_allclose(match_illumination(frame, background), background, rtol=0.02)


def test_uneven_dimmer_light_is_matched_and_an_object_still_shows() -> None:
    background = _scene(1)
    lit = background * _uneven_light(120, 160)
    frame = lit.copy()
    frame[:, 40:70, 60:90] = 250.0  # an object under the new light, an eighth of a cell row
    frame = np.clip(frame, 0, 255).astype(np.uint8)
    relit = match_illumination(frame, background)
    away = np.ones((120, 160), dtype=bool)
    away[30:80, 50:100] = False
    # The relit background matches the frame to a few grey levels where there is no object
    # (bilinear gains follow a linear ramp up to the cell's median estimate).
    assert np.abs(relit - frame.astype(np.float32)).mean(axis=0)[away].mean() < 4.0
    rule = ForegroundRule(alpha2=0.0)
    noise = np.zeros((1, 120, 160), dtype=np.float32)
    with_light = foreground_mask(frame, background / 255.0, noise, rule).astype(bool)
    without = foreground_mask(frame, background / 255.0, noise, ForegroundRule(relight=0))
    assert with_light[40:70, 60:90].mean() > 0.95  # the object is found
    assert with_light[away].mean() < 0.01  # and the dimmer floor is not
    assert without.astype(bool)[away].mean() > 0.5  # unmatched, the light change is "foreground"


def test_training_relights_like_the_runtime() -> None:
    background = _scene(2)
    frame = np.clip(background * _uneven_light(120, 160), 0, 255).astype(np.uint8)
    runtime = match_illumination(frame, background)
    images = torch.from_numpy(frame[None].astype(np.float32) / 255.0)
    training = match_illumination_torch(images, torch.from_numpy(background[None] / 255.0))
    # Same medians, same gains; OpenCV's and torch's bilinear kernels agree to float32
    # rounding, so the two differ by under one grey level.
    assert np.abs(training[0].numpy() * 255.0 - runtime).max() < 1.0
