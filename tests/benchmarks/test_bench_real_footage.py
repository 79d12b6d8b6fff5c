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
    proc = subprocess.run([*argv, "--json", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(out.read_text())
    methods = result["sequences"]["cam"]["methods"]
    assert set(methods) == {"astseg_fused", "astseg_background", "mog2", "knn"}
    for scores in result["summary"]["cam"].values():
        assert set(scores) == {"f_measure", "precision", "recall"}
        assert all(0.0 <= v <= 1.0 for v in scores.values())
    assert methods["astseg_fused"]["frames"] == 101 and methods["astseg_fused"]["fps"] > 0
    # the square crossing a still scene is easy: a learnt background finds it
    assert methods["astseg_background"]["f_measure"] > 0.8
    commands = result["sequences"]["cam"]["commands"]
    assert commands["train"].startswith("astseg train --preset cpu --data cdnet:")
    assert "--time-limit 0.1" in commands["train"]
    assert result["git_revision"] and "targets" in result


def test_without_footage_it_says_so_and_writes_nothing(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import real_footage

    monkeypatch.setattr(real_footage, "SHARED_DATA", tmp_path / "nothing")
    out = tmp_path / "real.json"
    assert real_footage.main(["--json", str(out)]) == 0
    assert not out.exists()
    assert "no CDnet sequence under" in capsys.readouterr().out
