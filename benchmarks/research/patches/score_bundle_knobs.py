"""Research (with fusion_colour_gate.diff applied): a bundle's default output on the bar's 500
test scenes (100 000-100 499 of seed 0) with the patch's fusion knobs set.

    git apply benchmarks/research/patches/fusion_colour_gate.diff
    BGP=0.1 python benchmarks/research/patches/score_bundle_knobs.py BUNDLE GATE SAME_NECK

GATE: chromaticity L1 distance above which two slot pieces never merge (0 = off); SAME_NECK:
the cut / sqrt(area) from which same-coloured pieces merge (0 = NECK); BGP: share of a
claimed component the background layer must own to become a piece of its own (0 = off).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

import sdk.fixed_camera.fused as fused  # noqa: E402
from training.data.sample import Subset  # noqa: E402
from training.data.synthetic import SceneConfig, SyntheticScenes  # noqa: E402
from training.evaluation.predictors import SegmenterPredictor  # noqa: E402
from training.evaluation.scoring import evaluate  # noqa: E402


def main() -> None:
    bundle, gate, same = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    fused.COLOUR_GATE, fused.SAME_NECK = gate, same  # type: ignore[attr-defined]
    fused.BG_PIECE = float(os.environ.get("BGP", "0"))  # type: ignore[attr-defined]
    predictor = SegmenterPredictor(bundle, None)
    height, width = predictor.image_size
    config = SceneConfig(height=height, width=width, max_objects=4, background="fixed", seed=0)
    test = Subset(SyntheticScenes(config, 100_500), range(100_000, 100_500))
    report = evaluate(predictor, test, batch_size=50, progress=False)
    print(gate, same, {k: round(v, 4) for k, v in report.metrics.items() if isinstance(v, float)})


if __name__ == "__main__":
    main()
