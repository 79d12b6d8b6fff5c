"""Picks the fixed-camera foreground rule's defaults once, on our own synthetic cameras, and
measures fused masks against slot masks (issue 12; docs/runtime.md "Fixed-camera mode").

1. Trains `BackgroundModel` at 240×320 for `--steps` steps (robust loss of DESIGN §3, batch
   8, Adam 2e-3, one thread) on frames 0–2999 of two fixed cameras: the default model's
   synthetic camera (seed 7) without and with sensor noise (σ = 12).
2. Grids the rule (α₁, α₂, closing, opening) on tuning frames 3000–3149 of both cameras,
   picks the best mean foreground F, and reports it and the paper's constants on held-out
   frames 3150–3299, at 320×240 and on 640×480 renders (mask enlarged as the runtime does).
3. Puts the clean camera's background graph beside the shipped default slot model and runs
   `sdk.Segmenter` in slots / fused / background mode on held-out clips with at most 4 and
   at most 8 objects: foreground F, ARI-FG, mIoU-FG, objects reported vs on screen.

    OMP_NUM_THREADS=1 python benchmarks/research/foreground_rule.py --steps 300 \
        --out benchmarks/research/results/foreground_rule.json

Labels are used only here, to fix defaults once; nothing is tuned per clip at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sdk import Segmenter  # noqa: E402
from sdk.fixed_camera.foreground import ForegroundRule, foreground_mask, to_frame_size  # noqa: E402
from sdk.outputs.atomic import write_bytes_atomic  # noqa: E402
from training.data import SceneConfig, SyntheticVideo  # noqa: E402
from training.losses import background_loss  # noqa: E402
from training.metrics import ari_fg, matched_iou  # noqa: E402
from training.model.background import BackgroundModel  # noqa: E402

HEIGHT, WIDTH = 240, 320
CAMERAS = {"clean": 0.0, "noisy": 12.0}
PAPER = ForegroundRule(alpha1=96 / 255, alpha2=7.0, close=5, open=7)


def camera(noise: float, height: int = HEIGHT, width: int = WIDTH, objects: int = 4) -> Any:
    scene = SceneConfig(
        height=height, width=width, max_objects=objects, background="fixed", seed=7, noise=noise
    )
    return SyntheticVideo(scene, 4000)


class _Graph(nn.Module):
    """uint8 frames -> (background, noise), as background.onnx is specified."""

    def __init__(self, model: BackgroundModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        background, noise = self.model(image.float() / 255.0)
        return background, noise


def train(noise: float, steps: int, out: Path) -> dict[str, Any]:
    torch.manual_seed(0)
    video = camera(noise)
    model = BackgroundModel(HEIGHT, WIDTH)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    rng = np.random.default_rng(0)
    pool = rng.choice(3000, 600, replace=False)
    frames: dict[int, np.ndarray] = {}
    start = time.perf_counter()
    for _ in range(steps):
        batch = [int(t) for t in rng.choice(pool, 8)]
        for t in batch:
            if t not in frames:
                frames[t] = video.render(t)[0]
        x = torch.from_numpy(np.stack([frames[t] for t in batch])).permute(0, 3, 1, 2) / 255.0
        background, predicted = model(x.float())
        loss = background_loss(x.float(), background, predicted)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    seconds = time.perf_counter() - start
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Graph(model.eval()),
            (torch.zeros(1, 3, HEIGHT, WIDTH, dtype=torch.uint8),),
            str(out),
            input_names=["image"],
            output_names=["background", "noise"],
            dynamic_axes={k: {0: "batch"} for k in ("image", "background", "noise")},
            opset_version=17,
            dynamo=False,
        )
    return {
        "steps": steps,
        "train_seconds": round(seconds, 1),
        "final_loss": round(float(loss.detach()), 5),
    }


def graph_outputs(graph: Path, noise: float, frames: range, size: tuple[int, int]) -> list:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
    video = camera(noise, *size)
    out = []
    for t in frames:
        image, ids, _ = video.render(t)
        if size != (HEIGHT, WIDTH):
            image = cv2.resize(image, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
        x = np.ascontiguousarray(image.transpose(2, 0, 1))
        background, predicted = session.run(["background", "noise"], {"image": x[None]})
        out.append((x, background[0], predicted[0], ids > 0))
    return out


def f_measure(data: list, rule: ForegroundRule) -> dict[str, float]:
    tp = fp = fn = 0
    for x, background, predicted, truth in data:
        mask = to_frame_size(foreground_mask(x, background, predicted, rule), *truth.shape)
        mask = mask.astype(bool)
        tp += int((mask & truth).sum())
        fp += int((mask & ~truth).sum())
        fn += int((~mask & truth).sum())
    p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return {
        "f": round(2 * p * r / max(1e-12, p + r), 4),
        "precision": round(p, 4),
        "recall": round(r, 4),
    }


def pick_rule(graphs: dict[str, Path]) -> dict[str, Any]:
    tune = {
        c: graph_outputs(graphs[c], n, range(3000, 3150, 3), (HEIGHT, WIDTH))
        for c, n in CAMERAS.items()
    }
    grid = []
    for a1, a2, (close, opening) in itertools.product(
        [0.2, 0.25, 0.3, 96 / 255, 0.45],
        [0.0, 0.25, 0.5, 1.0, 2.0, 7.0],
        [(5, 7), (3, 5), (3, 3), (0, 0)],
    ):
        rule = ForegroundRule(alpha1=a1, alpha2=a2, close=close, open=opening)
        per = {c: f_measure(d, rule)["f"] for c, d in tune.items()}
        grid.append((float(np.mean(list(per.values()))), rule, per))
    grid.sort(key=lambda g: -g[0])
    best = grid[0][1]
    held: dict[str, Any] = {}
    for name, noise in CAMERAS.items():
        small = graph_outputs(graphs[name], noise, range(3150, 3300, 3), (HEIGHT, WIDTH))
        large = graph_outputs(graphs[name], noise, range(3150, 3300, 3), (480, 640))
        predicted = np.concatenate([d[2].ravel() for d in small]) * 255
        fg = np.concatenate([d[3].ravel() for d in small])
        held[name] = {
            "predicted_noise_0_255": {
                "background_mean": round(float(predicted[~fg].mean()), 2),
                "foreground_mean": round(float(predicted[fg].mean()), 2),
            },
            "chosen": {"320x240": f_measure(small, best), "640x480": f_measure(large, best)},
            "paper": {"320x240": f_measure(small, PAPER), "640x480": f_measure(large, PAPER)},
        }
    return {
        "chosen": best.__dict__,
        "top_of_grid": [
            {"mean_f": round(g[0], 4), **g[1].__dict__, "per_camera": g[2]} for g in grid[:6]
        ],
        "held_out": held,
    }


def camera_bundle(graph: Path, rule: ForegroundRule, out: Path) -> Path:
    shutil.copytree(ROOT / "sdk" / "models" / "default", out)
    shutil.copy(graph, out / "background.onnx")
    manifest = json.loads((out / "astseg.json").read_text())
    data = (out / "background.onnx").read_bytes()
    manifest["graphs"]["background"] = "background.onnx"
    manifest["files"]["background.onnx"] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
    manifest["background"] = {
        "graph": "background.onnx", "image_height": HEIGHT, "image_width": WIDTH,
        "foreground_rule": rule.__dict__,
    }  # fmt: skip
    (out / "astseg.json").write_text(json.dumps(manifest))
    return out


def modes(bundle: Path, objects: int) -> dict[str, Any]:
    video = camera(0.0, objects=objects)
    clip = [video.render(t)[:2] for t in range(3150, 3300, 2)]
    report = {}
    for mode in ("slots", "fused", "background"):
        seg = Segmenter(bundle, masks_from=mode, threads=1, channels="rgb")
        tp = fp = fn = 0
        aris, mious, found, shown = [], [], [], []
        for image, ids in clip:
            result = seg(image)
            fg = result.foreground if result.foreground is not None else result.slot_labels != 0
            truth = ids > 0
            tp += int((fg & truth).sum())
            fp += int((fg & ~truth).sum())
            fn += int((~fg & truth).sum())
            if truth.any():
                aris.append(ari_fg(ids, result.label_map))
                miou, _ = matched_iou(ids, result.label_map)
                mious.append(miou)
                found.append(len(result.objects))
                shown.append(len(np.unique(ids[truth])))
        p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
        report[mode] = {
            "f": round(2 * p * r / max(1e-12, p + r), 4),
            "ari_fg": round(float(np.mean(aris)), 4),
            "miou_fg": round(float(np.nanmean(mious)), 4),
            "objects_reported": round(float(np.mean(found)), 2),
            "objects_on_screen": round(float(np.mean(shown)), 2),
        }
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="foreground-rule-"))
    try:
        graphs = {c: work / f"{c}.onnx" for c in CAMERAS}
        training = {c: {"noise": n, **train(n, args.steps, graphs[c])} for c, n in CAMERAS.items()}
        rule_report = pick_rule(graphs)
        chosen = ForegroundRule(**rule_report["chosen"])
        bundle = camera_bundle(graphs["clean"], chosen, work / "bundle")
        result = {
            "command": " ".join(["python", *sys.argv]),
            "training": training,
            "rule": rule_report,
            "modes_default_slot_model": {f"max_objects_{n}": modes(bundle, n) for n in (4, 8)},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_bytes_atomic(args.out, (json.dumps(result, indent=2) + "\n").encode())
    print(json.dumps(result["rule"]["chosen"]), json.dumps(result["modes_default_slot_model"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
