"""A first real run: build the `cpu` preset model and segment one generated image."""

from __future__ import annotations

import time

import numpy as np
import torch

from training.model import ASTSeg
from training.presets import preset_config


def _generated_image(size: int, seed: int = 0) -> np.ndarray:
    """A grey-gradient scene with three coloured squares; float32 [3, H, W] in [0, 1]."""
    rng = np.random.default_rng(seed)
    image = np.tile(np.linspace(0.3, 0.6, size, dtype=np.float32), (3, size, 1))
    for _ in range(3):
        side = int(rng.integers(size // 8, size // 4))
        y, x = rng.integers(0, size - side, size=2)
        image[:, y : y + side, x : x + side] = rng.random(3, dtype=np.float32)[:, None, None]
    return image


def run_smoke_forward(size: int = 64, slots: int = 6) -> None:
    config = preset_config("cpu").with_overrides(
        {"model.image_height": size, "model.image_width": size, "model.num_slots": slots}
    )
    torch.manual_seed(0)
    model = ASTSeg(config.model).eval()
    image = torch.from_numpy(_generated_image(size))[None]
    start = time.perf_counter()
    with torch.no_grad():
        out = model(image)
    elapsed = (time.perf_counter() - start) * 1000
    params = sum(p.numel() for p in model.parameters())
    lat = out.latents
    print(f"AST-Seg ({config.model.feature_generator}, {params / 1e6:.2f} M parameters, untrained)")
    print(f"input            {tuple(image.shape)}")
    print(f"slots K          {lat.num_slots}")
    print(f"position         {tuple(lat.position.shape)}")
    print(f"inverse scale    {tuple(lat.scale.shape)}")
    print(f"log activation   {tuple(lat.log_activation.shape)}")
    print(f"z_what           {tuple(lat.z_what.shape)}")
    print(f"layer weights    {tuple(out.weights.shape)}")
    print(f"segmentation     {tuple(out.segmentation().shape)}")
    print(f"reconstruction   {tuple(out.reconstruction.shape)}")
    print(f"forward pass     {elapsed:.1f} ms on CPU")
