"""A fixed camera in CDnet's layout, drawn here: a textured still scene, one square crossing
it, its labels (255 foreground), temporalROI.txt. For tests of training and benchmarks on
short real-style footage."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

FRAMES, H, W = 101, 48, 64


def write_cdnet_camera(root: Path, lamp_switch: bool = False) -> Path:
    """A CDnet-format sequence: a textured still scene, one square crossing it, labels;
    with `lamp_switch` the whole view is dimmed to 45 % in every third 10-frame block."""
    rng = np.random.default_rng(0)
    scene = np.clip(
        cv2.resize(rng.uniform(40, 200, (6, 8, 3)), (W, H)) + rng.normal(0, 10, (H, W, 3)),
        0,
        255,
    ).astype(np.uint8)
    (root / "input").mkdir(parents=True)
    (root / "groundtruth").mkdir()
    for n in range(1, FRAMES + 1):
        frame, truth = scene.copy(), np.zeros((H, W), np.uint8)
        x = 2 + (n * 3) % (W - 14)
        frame[18:30, x : x + 12] = (250, 30, 30)
        truth[18:30, x : x + 12] = 255
        if lamp_switch and (n // 10) % 3 == 2:
            frame = (frame * 0.45).round().astype(np.uint8)
        cv2.imwrite(str(root / "input" / f"in{n:06d}.jpg"), frame[..., ::-1])
        cv2.imwrite(str(root / "groundtruth" / f"gt{n:06d}.png"), truth)
    (root / "temporalROI.txt").write_text(f"1 {FRAMES}\n")
    return root
