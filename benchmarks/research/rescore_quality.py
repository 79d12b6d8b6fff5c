"""Research: a finished train_quality checkpoint rescored with an inference-only model setting.

`model.duplicate_slot_overlap` changes no weight, only how the renderer reads them, so a
bar run's checkpoint can be scored with it on the same 500 test scenes without training
again: the checkpoint is copied with the setting written into its config, then scored as
`benchmarks/train_quality.py` scores (the exported bundle's default output and its slots,
and the checkpoint's argmax). The official bar figures stay those of the run itself.

    python benchmarks/research/rescore_quality.py runs/train-quality/run/checkpoints/best.pt \
        --overlap 0.2 --json benchmarks/research/results/rescore_quality.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "benchmarks"):
    sys.path.insert(0, str(path))

from common import git_revision, machine  # noqa: E402
from train_quality import _score, _score_deployed  # noqa: E402

from training.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from training.data.sample import Subset  # noqa: E402
from training.data.synthetic import SceneConfig, SyntheticScenes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--overlap", type=float, nargs="+", default=[0.2])
    parser.add_argument("--objects", type=int, help="most objects per scene (default: K)")
    parser.add_argument("--train-scenes", type=int, default=100_000)
    parser.add_argument("--eval-scenes", type=int, default=500)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    payload = load_checkpoint(args.checkpoint)
    model = payload["config"]["model"]
    scenes = SyntheticScenes(
        SceneConfig(
            height=model["image_height"],
            width=model["image_width"],
            max_objects=args.objects or model["num_slots"],
            background="fixed",
            seed=0,
        ),
        args.train_scenes + args.eval_scenes,
    )
    test = Subset(scenes, range(args.train_scenes, args.train_scenes + args.eval_scenes))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for overlap in [0.0, *args.overlap]:
            model["duplicate_slot_overlap"] = overlap
            copy = save_checkpoint(Path(tmp) / f"overlap_{overlap}.pt", payload)
            deployed = _score_deployed(copy, test, Path(tmp) / f"bundle_{overlap}")
            results[str(overlap)] = {"checkpoint_argmax": _score(copy, test), **deployed}
            print(overlap, {k: v.get("ari_fg") for k, v in results[str(overlap)].items()})
    report = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "git_revision": git_revision(),
        "machine": machine("cpu"),
        "checkpoint": str(args.checkpoint),
        "step": payload.get("step"),
        "test_scenes": [args.train_scenes, args.train_scenes + args.eval_scenes],
        "by_overlap": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1, default=float) + "\n")


if __name__ == "__main__":
    main()
