"""Research: what the light check (training/trainer/light_check.py) measures on trained
background models, and what it would choose.

For each CHECKPOINT=DATA pair it samples up to 200 frames spread over the data (at the
background model's size, as the trainer does), compares them with the model's backgrounds
plain and relit, and records each frame's mean median difference, the choice, and the noise
map's median under both. The data spec is the one the checkpoint was trained on; a
synthetic-scenes checkpoint (the bar of benchmarks/train_quality.py) takes `scenes:SEED`.

    python benchmarks/research/light_check.py \
        runs/light/traffic/checkpoints/latest.pt=cdnet:../shared/data/cdnet-traffic-slice \
        --json benchmarks/research/results/light_check.json
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "benchmarks"):
    sys.path.insert(0, str(path))

from common import git_revision, machine, write_json  # noqa: E402

from training.checkpoint import load_model  # noqa: E402
from training.data.resize import resize_image  # noqa: E402
from training.data.sample import SampleDataset  # noqa: E402
from training.trainer.background_statistics import SAMPLE_FRAMES  # noqa: E402
from training.trainer.light_check import choose_light_matching  # noqa: E402
from training.trainer.samples import spread_indices  # noqa: E402


def _dataset(spec: str, height: int, width: int) -> SampleDataset:
    if spec.startswith("scenes:"):
        from training.data.synthetic import SceneConfig, SyntheticScenes

        seed = int(spec.split(":", 1)[1])
        scene = SceneConfig(
            height=height, width=width, max_objects=4, background="fixed", seed=seed
        )
        return SyntheticScenes(scene, 5_000)
    from training.data.spec import open_dataset

    return open_dataset(spec)


def measure(checkpoint: str, spec: str) -> dict[str, Any]:
    model, config, _ = load_model(checkpoint)
    size = config.model.background_size
    data = _dataset(spec, config.model.image_height, config.model.image_width)
    picks = spread_indices(len(data), SAMPLE_FRAMES)  # the trainer's own spread
    frames = (
        torch.stack(
            [
                torch.from_numpy(resize_image(data[int(i)].image, size)).permute(2, 0, 1)
                for i in picks
            ]
        ).float()
        / 255.0
    )
    shake = float(config.model.foreground_rule.get("shake", 0))
    choice = choose_light_matching(model.background, frames, shake)
    return {
        "checkpoint": checkpoint,
        "data": spec,
        "frames": len(picks),
        "trained_relight": int(config.model.foreground_rule.get("relight", 0)),
        "frame_median_difference_without": round(choice.residual_without, 3),
        "frame_median_difference_with": round(choice.residual_with, 3),
        "noise_map_median_without": round(float(choice.plain.median()) * 255, 3),
        "noise_map_median_with": round(float(choice.relit.median()) * 255, 3),
        "chooses_light_matching": choice.relight,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="CHECKPOINT=DATA")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    rows = []
    for pair in args.pairs:
        checkpoint, spec = pair.split("=", 1)
        rows.append(measure(checkpoint, spec))
        print(rows[-1])
    report = {
        "benchmark": "research/light_check",
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "git_revision": git_revision(),
        "machine": machine(),
        "rows": rows,
    }
    write_json(args.json, report)


if __name__ == "__main__":
    main()
