"""benchmarks/train_quality.py end to end on a tiny model and a seconds-long budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2

from tests.training.trainer.trainer_fixtures import tiny_yaml

ROOT = Path(__file__).resolve().parents[2]


def test_quality_benchmark_trains_within_budget_and_scores_unseen_scenes(tmp_path):
    config = tiny_yaml(tmp_path / "tiny.yaml", steps=1000, frozen_background_steps=10,
                       validation_images=4, validate_every=1)  # fmt: skip
    out, png, curve = tmp_path / "q.json", tmp_path / "q.png", tmp_path / "curve.png"
    args = ["--minutes", "0.02", "--config", str(config), "--train-scenes", "40"]
    args += ["--eval-scenes", "8", "--json", str(out), "--png", str(png)]
    args += ["--curve-png", str(curve)]
    args += ["--run", str(tmp_path / "run")]
    main = tmp_path / "main.json"  # a main report the crowded variant adds its keys to
    main.write_text(json.dumps({"summary": {"ari_fg": 0.5}}))
    args += ["--merge-into", str(main), "--prefix", "crowded"]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/train_quality.py"), *args],
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    summary = report["summary"]
    keys = {"ari_fg", "miou_fg", "slots_ari_fg", "slots_miou_fg", "mse", "wall_s", "steps"}
    assert keys <= set(summary)
    # The default output is the exported bundle's: fused with its background model.
    assert summary["masks_from"] == "fused" == report["deployed"]["default"]["masks_from"]
    assert report["deployed"]["slots"]["masks_from"] == "slots"
    assert summary["slots_ari_fg"] == report["deployed"]["slots"]["ari_fg"]
    merged = json.loads(main.read_text())["summary"]
    assert merged["ari_fg"] == 0.5 and merged["crowded_ari_fg"] == summary["ari_fg"]
    assert merged["crowded_slots_miou_fg"] == summary["slots_miou_fg"]
    assert report["training"]["status"] == "time_limit"
    # 2 background steps + 1000; a slow machine ends phase 1 at 30 % of the budget, after 1
    planned = report["training"]["planned_steps"]
    assert 1 <= summary["steps"] < planned and planned in (1001, 1002)
    assert summary["wall_s"] < 60
    assert report["evaluation"]["final"]["images"] == 8
    assert report["data"]["test_scenes"] == [40, 48]
    assert report["git_revision"] and report["machine"]["cores"] >= 1
    assert cv2.imread(str(png)).shape[0] > 4 * 64  # four test scenes, one row each
    points = report["validation_curve"]
    assert len(points) >= 2 and all(0 <= p["ari_fg"] <= 1 for p in points)
    assert report["curve_png"] == str(curve.resolve()) and cv2.imread(str(curve)).shape[1] > 400


def test_a_bad_merge_target_is_refused_before_any_training(tmp_path):
    for target, why in ((tmp_path / "missing.json", "not a readable JSON report"),
                        (tmp_path / "bare.json", "has no summary")):  # fmt: skip
        if target.name == "bare.json":
            target.write_text(json.dumps({"benchmark": "train_quality"}))
        proc = subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks/train_quality.py"),
                "--minutes",
                "0.01",
                "--json",
                str(tmp_path / "q.json"),
                "--merge-into",
                str(target),
            ],  # fmt: skip
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2 and why in proc.stderr
        assert "Traceback" not in proc.stderr and not (tmp_path / "q.json").exists()
