"""benchmarks/real_footage.py: the user's flow on CDnet-format folders, scored beside MOG2/KNN."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cdnet_camera import write_cdnet_camera

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "real_footage.py"


def test_it_trains_exports_runs_and_scores_a_cdnet_folder(tmp_path: Path) -> None:
    camera = write_cdnet_camera(tmp_path / "cam")
    out = tmp_path / "real.json"
    argv = [sys.executable, str(SCRIPT), "--cdnet", str(camera), "--time-limit", "0.1"]
    argv += ["--work", str(tmp_path / "work")]
    proc = subprocess.run([*argv, "--json", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(out.read_text())
    methods = result["sequences"]["cam"]["methods"]
    assert set(methods) == {"astseg_fused", "astseg_background", "mog2", "knn"}
    objects = {"objects_per_scored_frame", "objects_off_truth_per_frame", "true_regions_per_frame"}
    for name, scores in result["summary"]["cam"].items():
        rates = {"f_measure", "precision", "recall"}
        assert set(scores) == (rates | objects if name.startswith("astseg") else rates)
        assert all(0.0 <= scores[k] <= 1.0 for k in rates)
    assert methods["astseg_fused"]["true_regions_per_frame"] == 1.0  # one square, every frame
    assert methods["astseg_fused"]["frames"] == 101 and methods["astseg_fused"]["fps"] > 0
    # the square crossing a still scene is easy: a learnt background finds it
    assert methods["astseg_background"]["f_measure"] > 0.8
    commands = result["sequences"]["cam"]["commands"]
    assert commands["train"].startswith("astseg train --preset cpu --data cdnet:")
    assert "--time-limit 0.1" in commands["train"]
    assert result["git_revision"] and "targets" in result
    # the kept bundle scored again without training: the same masks, no training figures
    again = tmp_path / "again.json"
    proc = subprocess.run(
        [*argv, "--reuse-bundles", "--json", str(again)], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    reused = json.loads(again.read_text())["sequences"]["cam"]
    assert reused["wall"]["train_s"] is None and reused["wall"]["reused_bundle"].endswith("bundle")
    assert reused["methods"]["astseg_fused"]["f_measure"] == methods["astseg_fused"]["f_measure"]


def test_reuse_without_a_kept_bundle_is_one_sentence(tmp_path: Path) -> None:
    camera = write_cdnet_camera(tmp_path / "cam")
    argv = [sys.executable, str(SCRIPT), "--cdnet", str(camera), "--reuse-bundles"]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0 and "--reuse-bundles needs --work" in proc.stderr
    proc = subprocess.run(
        [*argv, "--work", str(tmp_path / "empty")], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode != 0 and "holds no bundle" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_objects_off_the_truth_are_counted(tmp_path: Path) -> None:
    """Masks with the square as one object and a speck on the still scene: two objects a
    frame, one off the truth, one true region."""
    import cv2
    import numpy as np

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from real_objects import object_scores

    camera = write_cdnet_camera(tmp_path / "cam")
    masks = tmp_path / "masks"
    masks.mkdir()
    for truth_path in sorted((camera / "groundtruth").iterdir()):
        truth = cv2.imread(str(truth_path), cv2.IMREAD_GRAYSCALE)
        labels = np.where(truth == 255, 7, 0).astype(np.uint16)
        labels[2:6, 2:6] = 9  # a 4x4 speck where nothing moves
        cv2.imwrite(str(masks / truth_path.name.replace("gt", "in")), labels)
    scores = object_scores(camera, masks, min_area=4)
    assert scores == {
        "true_regions_per_frame": 1.0,
        "objects_per_scored_frame": 2.0,
        "objects_off_truth_per_frame": 1.0,
    }


def test_without_footage_it_says_so_and_writes_nothing(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import real_footage

    monkeypatch.setattr(real_footage, "SHARED_DATA", tmp_path / "nothing")
    out = tmp_path / "real.json"
    assert real_footage.main(["--json", str(out)]) == 0
    assert not out.exists()
    assert "no CDnet sequence under" in capsys.readouterr().out
