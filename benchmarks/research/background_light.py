"""Probe: how well a briefly trained background model finds the foreground under changing
light, with and without the runtime's light matching (sdk.fixed_camera.illumination).

Trains the background model alone (phase 1 of the `cpu` preset, `--steps` steps) on the
unlabelled footage the classical benchmark trains on, then scores the foreground rule on
frames of four clips of that camera (still, light switch, light drift, shake; traffic of
motion seed 1, never seen in training): foreground F, precision and recall over frames
50, 75, ..., 275, with the rule's `relight` off and on.

    python benchmarks/research/background_light.py --steps 150 --out runs/bg-light
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from sdk.fixed_camera.foreground import ForegroundRule, foreground_mask
from training.checkpoint import load_model
from training.data.camera_effects import CameraEffects
from training.data.spec import synthetic_scene_config
from training.data.synthetic_video import SyntheticVideo
from training.presets import preset_config
from training.trainer.loop import train

FOOTAGE = (
    "synthetic_video:size=240x320,objects=4,background=fixed,seed=7,frames=30000,"
    "lighting=mixed,light_period=3000,shake=3"
)
CLIPS = {
    "static": CameraEffects(),
    "switch": CameraEffects(lighting="switch"),
    "drift": CameraEffects(lighting="drift"),
    "shake": CameraEffects(shake=3),
}


def score(model: torch.nn.Module, relight: int) -> dict[str, dict[str, float]]:
    scene = synthetic_scene_config("synthetic:size=240x320,objects=4,background=fixed,seed=7")
    rule = ForegroundRule(relight=relight)
    out = {}
    for name, effects in CLIPS.items():
        video = SyntheticVideo(scene, 300, effects=effects, motion_seed=1)
        tp = fp = fn = 0
        for t in range(50, 300, 25):
            image, ids, _ = video.render(t)
            truth = ids > 0
            x = torch.from_numpy(image.transpose(2, 0, 1).copy())[None].float() / 255
            with torch.no_grad():
                background, noise = model(x)
            frame = np.ascontiguousarray(image.transpose(2, 0, 1))
            mask = foreground_mask(frame, background[0].numpy(), noise[0].numpy(), rule) > 0
            tp += int((mask & truth).sum())
            fp += int((mask & ~truth).sum())
            fn += int((~mask & truth).sum())
        p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        out[name] = {
            "f": round(2 * p * r / max(p + r, 1e-9), 4),
            "p": round(p, 4),
            "r": round(r, 4),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--out", type=Path, default=Path("runs/bg-light"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    config = preset_config("cpu").with_overrides(
        {"train.background_steps": args.steps, "train.validation_images": 0}
    )
    started = time.time()
    train(config, FOOTAGE, args.out, background_only=True, progress=False, echo=lambda _: None)
    wall = time.time() - started
    model, _, _ = load_model(args.out / "checkpoints" / "latest.pt")
    model.background.eval()
    result = {
        "steps": args.steps,
        "train_wall_s": round(wall, 1),
        "relight_off": score(model.background, 0),
        "relight_on": score(model.background, 1),
    }
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
