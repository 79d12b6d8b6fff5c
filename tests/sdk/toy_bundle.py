"""A tiny, learning-free model that follows the bundle contract exactly, for runtime tests.

Encoder: finds up to K bright blobs (any channel above half range) by peak picking
and a flood fill bounded to the blob, then reports each blob's centroid as the
position, 1 / (2 std) per axis as the inverse scale (a disc of radius a has
std a/2, and a glimpse spans 2/s), its mean colour as z_what, and an activation
that beats the background exactly where the rendered mask exceeds 0.5.
Renderer: soft ellipses of semi-axes 1/s at the positions, combined with the
paper's occlusion weights w_k = a_k M_k / sum a_k' M_k' (M_0 = 1), argmax.

It is exported with the TorchScript exporter at opset 17, the configuration
docs/bundle-format.md and DESIGN.md section 4 prescribe, and lives in tests only.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
import zipfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

LOG_BG = 11.0
S_MIN, S_MAX = 1.3, 24.0


def _grid(h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-centre coordinates in [-1, 1], x along the width (the contract's convention)."""
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w * 2 - 1
    return xs.view(1, 1, 1, w).expand(1, 1, h, w), ys.view(1, 1, h, 1).expand(1, 1, h, w)


class ToyEncoder(nn.Module):
    def __init__(self, h: int, w: int, k: int, z: int, isotropic: bool) -> None:
        super().__init__()
        self.h, self.w, self.k, self.z, self.isotropic = h, w, k, z, isotropic
        gx, gy = _grid(h, w)
        self.register_buffer("gx", gx.contiguous())
        self.register_buffer("gy", gy.contiguous())
        self.register_buffer("flat_index", torch.arange(h * w).view(1, h * w))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = image.float() / 255.0
        n = x.shape[0]
        remaining = (x.amax(dim=1, keepdim=True) > 0.5).float()
        positions, scales, logs, whats = [], [], [], []
        for _ in range(self.k):
            density = F.avg_pool2d(remaining, 7, stride=1, padding=3) * remaining
            peak = density.flatten(1).argmax(dim=1, keepdim=True)
            region = (self.flat_index == peak).float().view(n, 1, self.h, self.w) * remaining
            for _ in range(max(self.h, self.w) // 4):
                region = F.max_pool2d(region, 5, stride=1, padding=2) * remaining
            count = region.sum(dim=(2, 3))
            safe = count.clamp(min=1.0)
            cx = (region * self.gx).sum(dim=(2, 3)) / safe
            cy = (region * self.gy).sum(dim=(2, 3)) / safe
            vx = (region * (self.gx - cx.view(n, 1, 1, 1)) ** 2).sum(dim=(2, 3)) / safe
            vy = (region * (self.gy - cy.view(n, 1, 1, 1)) ** 2).sum(dim=(2, 3)) / safe
            if self.isotropic:
                std = ((vx + vy) / 2).clamp(min=1e-8).sqrt()
                scale = 1.0 / (2.0 * std)
            else:
                scale = 1.0 / (2.0 * torch.cat([vx, vy], dim=1).clamp(min=1e-8).sqrt())
            present = (count >= 4.0).float()
            # object beats background exactly where its mask is above 0.5
            log_act = present * (LOG_BG + math.log(2.0)) + (1 - present) * -30.0
            colour = (region * x).sum(dim=(2, 3)) / safe
            what = torch.cat([colour, torch.zeros(n, self.z - 3)], dim=1)
            positions.append(torch.cat([cx, cy], dim=1))
            scales.append(scale.clamp(S_MIN, S_MAX))
            logs.append(log_act)
            whats.append(what)
            remaining = remaining * (1 - region)
        return (
            torch.stack(positions, dim=1),
            torch.stack(scales, dim=1),
            torch.cat(logs, dim=1),
            torch.stack(whats, dim=1),
        )


class ToyRenderer(nn.Module):
    def __init__(self, h: int, w: int) -> None:
        super().__init__()
        gx, gy = _grid(h, w)
        self.register_buffer("gx", gx.contiguous())
        self.register_buffer("gy", gy.contiguous())

    def forward(
        self,
        position: torch.Tensor,
        scale: torch.Tensor,
        log_activation: torch.Tensor,
        z_what: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        n, k = log_activation.shape
        px = position[:, :, 0].view(n, k, 1, 1)
        py = position[:, :, 1].view(n, k, 1, 1)
        sx = scale[:, :, 0].view(n, k, 1, 1)
        sy = scale[:, :, -1].view(n, k, 1, 1)
        r2 = ((self.gx - px) * sx) ** 2 + ((self.gy - py) * sy) ** 2
        mask = torch.sigmoid(8.0 * (1.0 - r2))
        fg = log_activation.view(n, k, 1, 1) + torch.log(mask + 1e-12) + 0.0 * z_what.sum()
        bg = torch.full_like(fg[:, :1], LOG_BG)
        weights = torch.softmax(torch.cat([bg, fg], dim=1), dim=1)
        return weights, weights.argmax(dim=1)


class ToySegmenter(nn.Module):
    def __init__(self, encoder: ToyEncoder, renderer: ToyRenderer) -> None:
        super().__init__()
        self.encoder, self.renderer = encoder, renderer

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        latents = self.encoder(image)
        return (*latents, *self.renderer(*latents))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _export(
    module: nn.Module, args: tuple[torch.Tensor, ...], path: Path, ins: list[str], outs: list[str]
) -> None:
    dynamic = {name: {0: "batch"} for name in ins + outs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the exporter DESIGN.md prescribes
        torch.onnx.export(
            module,
            args,
            str(path),
            input_names=ins,
            output_names=outs,
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
        )


def write_manifest(bundle: Path, manifest: dict) -> None:
    """Recompute every listed file's hash and size, then write astseg.json."""
    for name in list(manifest["files"]):
        path = bundle / name
        manifest["files"][name] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
    (bundle / "astseg.json").write_text(json.dumps(manifest, indent=2))


def build_toy_bundle(
    out: Path,
    height: int = 64,
    width: int = 64,
    slots: int = 4,
    z_what: int = 8,
    isotropic: bool = False,
    fused: bool = False,
) -> Path:
    """Export the toy graphs and write a complete, valid bundle directory at `out`."""
    out.mkdir(parents=True, exist_ok=True)
    encoder = ToyEncoder(height, width, slots, z_what, isotropic).eval()
    renderer = ToyRenderer(height, width).eval()
    image = torch.zeros(2, 3, height, width, dtype=torch.uint8)
    latent_names = ["position", "scale", "log_activation", "z_what"]
    with torch.no_grad():
        latents = encoder(image)
        _export(encoder, (image,), out / "encoder.onnx", ["image"], latent_names)
        _export(renderer, latents, out / "renderer.onnx", latent_names, ["weights", "segmentation"])
        if fused:
            _export(
                ToySegmenter(encoder, renderer),
                (image,),
                out / "segmenter.onnx",
                ["image"],
                latent_names + ["weights", "segmentation"],
            )
    graphs = {"encoder": "encoder.onnx", "renderer": "renderer.onnx"}
    if fused:
        graphs["segmenter"] = "segmenter.onnx"
    manifest = {
        "format": "astseg-bundle",
        "format_version": 1,
        "model": {
            "image_height": height,
            "image_width": width,
            "num_slots": slots,
            "z_what_dim": z_what,
            "scaling": "isotropic" if isotropic else "anisotropic",
            "s_min": S_MIN,
            "s_max": S_MAX,
            "log_background_activation": LOG_BG,
            "input": {"dtype": "uint8", "layout": "NCHW", "channels": "RGB", "range": [0, 255]},
        },
        "batch": {"dynamic": True, "min": 1, "opt": 1, "max": 8},
        "graphs": graphs,
        "files": {name: {} for name in graphs.values()},
        "opset": 17,
        "exporter": {"astseg": "test-toy", "torch": torch.__version__},
        "metrics": {},
        "training": {},
    }
    write_manifest(out, manifest)
    return out


def zip_bundle(bundle: Path, archive: Path) -> Path:
    """Zip a bundle directory's contents (what users download)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(bundle.iterdir()):
            zf.write(path, path.name)
    return archive


class ToyBackground(nn.Module):
    """A background graph that knows its camera: a constant colour, and no predicted noise."""

    def __init__(self, height: int, width: int, colour: tuple[int, int, int]) -> None:
        super().__init__()
        plane = torch.tensor(colour, dtype=torch.float32).view(1, 3, 1, 1) / 255.0
        self.register_buffer("plane", plane.expand(1, 3, height, width).contiguous())

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = image.shape[0]
        zero = 0.0 * image[:, :1].float()  # keeps the batch dimension dynamic
        return self.plane.expand(n, -1, -1, -1) + zero, zero


def add_background(
    bundle: Path,
    height: int = 120,
    width: int = 160,
    colour: tuple[int, int, int] = (30, 30, 30),
    rule: dict | None = None,
    module: nn.Module | None = None,
) -> Path:
    """Give a toy bundle a background.onnx of height×width and the manifest section for it.

    `module` (uint8 image -> background, noise) replaces the constant-colour camera.
    """
    module = (module or ToyBackground(height, width, colour)).eval()
    with torch.no_grad():
        _export(
            module,
            (torch.zeros(2, 3, height, width, dtype=torch.uint8),),
            bundle / "background.onnx",
            ["image"],
            ["background", "noise"],
        )
    manifest = json.loads((bundle / "astseg.json").read_text())
    manifest["graphs"]["background"] = "background.onnx"
    manifest["files"]["background.onnx"] = {}
    manifest["background"] = {
        "graph": "background.onnx",
        "image_height": height,
        "image_width": width,
        "foreground_rule": rule
        or {"alpha1": 96 / 255, "alpha2": 7.0, "noise_scale": 255.0, "close": 5, "open": 7},
    }
    write_manifest(bundle, manifest)
    return bundle
