"""Research probe (issue 20): can the background model learn a real camera within a CPU budget?

On a CDnet slice from ../shared/data/ (labels for scoring only) it trains phase 1's
autoencoder alone, at the background size (320 px on the long side), with the robust loss,
batch 16, lr 2e-3, and every `--every` steps scores the foreground the rule of
docs/cpu-recipe.md §8 makes from it: background moved onto each frame by its measured
shift (phase correlation), the per-pixel median residual over the 101 frames as the noise
map, foreground where l1 > 3 · noise + 12 grey levels (and, "hyst", only in regions with a
pixel twice over), then 3×3 closing and opening. Modes: `plain` (the paper's autoencoder)
and `prior` (the same plus a full-size image prior started from the shift-aligned median of
the frames, training.model.background). The curves are in
benchmarks/research/results/real_background.json.

    python benchmarks/research/real_background.py --sequence traffic --mode plain --steps 300
    python benchmarks/research/real_background.py --sequence fall --mode prior --steps 200
"""

from __future__ import annotations

import argparse
import glob
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from training.losses import background_loss  # noqa: E402
from training.model.background import BackgroundModel  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    root = DATA / f"cdnet-{name}-slice"
    frames = [cv2.imread(p)[..., ::-1] for p in sorted(glob.glob(f"{root}/input/*.jpg"))]
    truth = [cv2.imread(p, 0) for p in sorted(glob.glob(f"{root}/groundtruth/*.png"))]
    return np.stack(frames), np.stack(truth)


def f_measure(masks: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """CDnet's: 255 foreground, 85 / 170 ignored, the rest (shadow too) background."""
    valid, positive = (truth != 85) & (truth != 170), truth == 255
    tp = int((masks & positive & valid).sum())
    fp, fn = int((masks & ~positive & valid).sum()), int((~masks & positive & valid).sum())
    p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return round(2 * p * r / max(p + r, 1e-9), 3), round(p, 3), round(r, 3)


def small(frames: np.ndarray, long: int = 320) -> np.ndarray:
    _, h, w, _ = frames.shape
    scale = long / max(h, w)
    size = (round(w * scale), round(h * scale))
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]).astype(
        np.float32
    )


def shift_of(frame: np.ndarray, background: np.ndarray) -> tuple[float, float]:
    g1 = cv2.cvtColor(frame.astype(np.float32), cv2.COLOR_RGB2GRAY)
    g2 = cv2.cvtColor(background.astype(np.float32), cv2.COLOR_RGB2GRAY)
    window = cv2.createHanningWindow(g1.shape[::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(g2, g1, window)
    return dx, dy


def moved(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    matrix = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
    size = (image.shape[1], image.shape[0])
    return cv2.warpAffine(image, matrix, size, borderMode=cv2.BORDER_REFLECT)


def cleaned(mask: np.ndarray) -> np.ndarray:
    kernel = np.ones((3, 3), np.uint8)
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, kernel)
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)


def hysteresis(weak: np.ndarray, strong: np.ndarray) -> np.ndarray:
    count, labels = cv2.connectedComponents(weak.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[strong & weak])] = True
    keep[0] = False
    return keep[labels]


def to_frame(masks: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    size = (shape[2], shape[1])
    resized = [cv2.resize(m.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) for m in masks]
    return np.stack(resized).astype(bool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequence", choices=("fall", "traffic"), required=True)
    parser.add_argument("--mode", choices=("plain", "prior"), required=True)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--every", type=str, default="50,100,200,300,500,800")
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    frames, truth = load(args.sequence)
    s = small(frames)
    n, h, w, _ = s.shape
    median = np.median(s, 0)
    aligned = np.stack([moved(f, -dx, -dy) for f in s for dx, dy in [shift_of(f, median)]])
    median = np.median(aligned, 0)
    x = torch.tensor(s).permute(0, 3, 1, 2) / 255.0
    model = BackgroundModel(h, w, static_prior=args.mode == "prior")
    if args.mode == "prior":
        model.set_prior(torch.tensor(median).permute(2, 0, 1) / 255.0)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)

    def score(tag: str) -> None:
        with torch.no_grad():
            bg = torch.cat([model(x[i : i + 16])[0] for i in range(0, n, 16)])
        bg_np = bg.permute(0, 2, 3, 1).numpy() * 255
        residual = np.stack(
            [np.abs(f - moved(b, *shift_of(f, b))).mean(-1) for f, b in zip(s, bg_np, strict=True)]
        )
        noise = np.median(residual, 0)
        limit = 3 * noise + 12
        plain = to_frame(np.stack([cleaned(r > limit) for r in residual]), truth.shape)
        hyst = np.stack([cleaned(hysteresis(r > limit, r > 2 * limit)) for r in residual])
        error = float(np.abs(bg_np - median).mean())
        print(
            f"{tag} l1 to the aligned median {error:.2f} F/P/R {f_measure(plain, truth)} "
            f"hyst {f_measure(to_frame(hyst, truth.shape), truth)}",
            flush=True,
        )

    every = {int(v) for v in args.every.split(",")}
    start = time.time()
    score("step 0")
    for step in range(1, args.steps + 1):
        batch = x[torch.randint(0, n, (16,))]
        background, error = model(batch)
        loss = background_loss(batch, background, error)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step in every:
            score(f"step {step} {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
