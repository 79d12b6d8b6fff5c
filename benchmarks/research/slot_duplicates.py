"""Research probe (issue 22): how much of the slots' error is two slots drawing one object?

Loads a checkpoint, renders held-out scenes (benchmarks/research/scenes.py), and scores the
slots' argmax (the paper's output) against the same map after merging slots whose claims
overlap: slot k's presence p_k = w_k / (w_0 + w_k) is its weight against the background
alone (computable from the exported weights), and two slots merge when
sum(p_a p_b) / min(sum p_a, sum p_b) > tau. Prints JSON.

    python benchmarks/research/slot_duplicates.py CHECKPOINT [--tau 0.3 0.5 0.7]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenes import eval_scenes, scene_config, score  # noqa: E402

from training.checkpoint import load_model  # noqa: E402


def presence_overlap(weights: np.ndarray) -> np.ndarray:
    """weights [K+1, H, W] -> [K, K] overlap of the slots' presences."""
    background, slots = weights[:1], weights[1:]
    presence = slots / np.maximum(background + slots, 1e-12)
    flat = presence.reshape(len(presence), -1)
    shared = flat @ flat.T
    mass = flat.sum(axis=1)
    return shared / np.maximum(np.minimum(mass[:, None], mass[None, :]), 1e-12)


def merged_labels(weights: np.ndarray, tau: float) -> np.ndarray:
    """The argmax map with slots whose presences overlap above `tau` given one label."""
    labels = weights.argmax(axis=0)
    overlap = presence_overlap(weights)
    k = len(overlap)
    parent = list(range(k))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for a in range(k):
        for b in range(a + 1, k):
            if overlap[a, b] > tau:
                parent[root(b)] = root(a)
    lookup = np.array([0] + [root(i) + 1 for i in range(k)])
    return lookup[labels]


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
    weights = []
    with torch.no_grad():
        for start in range(0, len(images), 100):
            x = torch.from_numpy(images[start : start + 100]).permute(0, 3, 1, 2).float() / 255
            weights.append(model(x).weights.numpy())
    all_weights = np.concatenate(weights)
    k = config.model.num_slots
    result = {"checkpoint": str(args.checkpoint), "scenes": args.scenes}
    result["argmax"] = score(masks, all_weights.argmax(axis=1), k + 1)
    for tau in args.tau:
        merged = np.stack([merged_labels(w, tau) for w in all_weights])
        result[f"merged_tau_{tau}"] = score(masks, merged, k + 1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
