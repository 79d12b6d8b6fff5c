"""Research probe (issue 22): how much of the slots' error is two slots drawing one object?

Loads a checkpoint, renders held-out scenes (benchmarks/research/scenes.py), and scores the
slots' argmax (the paper's output) against the argmax after the inference-time merge of
`model.duplicate_slot_overlap` (training/model/duplicate_slots.py) at each tau. Prints JSON.

    python benchmarks/research/slot_duplicates.py CHECKPOINT [--tau 0.3 0.5 0.7]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenes import eval_scenes, scene_config, score  # noqa: E402

from training.checkpoint import load_model  # noqa: E402
from training.model.duplicate_slots import merge_duplicate_slots  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--tau", type=float, nargs="+", default=[0.3, 0.5, 0.7])
    parser.add_argument("--scenes", type=int, default=500)
    parser.add_argument("--max-objects", type=int, default=4)
    args = parser.parse_args()
    model, config, _ = load_model(args.checkpoint)
    model.eval()
    scenes = scene_config(args.max_objects, config.model.image_height)
    images, masks = eval_scenes(scenes, args.scenes)
    model.renderer.duplicate_slot_overlap = 0.0  # the raw weights; each tau applied below
    weights = []
    with torch.no_grad():
        for start in range(0, len(images), 100):
            x = torch.from_numpy(images[start : start + 100]).permute(0, 3, 1, 2).float() / 255
            weights.append(model(x).weights)
    all_weights = torch.cat(weights)
    k = config.model.num_slots
    result = {"checkpoint": str(args.checkpoint), "scenes": args.scenes}
    result["argmax"] = score(masks, all_weights.argmax(dim=1).numpy(), k + 1)
    for tau in args.tau:
        merged = merge_duplicate_slots(all_weights, tau).argmax(dim=1).numpy()
        result[f"merged_tau_{tau}"] = score(masks, merged, k + 1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
