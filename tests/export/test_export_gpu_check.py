"""benchmarks/gpu_check.py in its CPU smoke mode, so the GPU script does not rot."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load_script():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cpu_smoke_run_records_every_stage(tmp_path, monkeypatch) -> None:
    out_dir = tmp_path / "device-out"
    out_dir.mkdir()
    monkeypatch.setenv("OUT", str(out_dir))
    target = tmp_path / "gpu_check.json"
    assert _load_script().main(["--cpu-smoke", "--out", str(target)]) == 0
    data = json.loads(target.read_text())
    assert json.loads((out_dir / "gpu_check.json").read_text()) == data
    assert data["command"] == f"benchmarks/gpu_check.sh --cpu-smoke --out {target}"
    assert data["mode"] == "cpu-smoke" and data["git_revision"]
    assert {"torch", "onnx", "onnxruntime", "python"} <= set(data["versions"])
    (model,) = data["models"].values()
    assert model["train_step"]["min_ms"] > 0
    for batch in ("batch_1", "batch_8"):
        timing = model["eager_inference_fp32"][batch]
        assert 0 < timing["min_ms"] <= timing["median_ms"]
    # Within the export's float32 limit (export refuses otherwise), not a fixed 1e-4.
    assert 0 <= model["export"]["parity"]["max_abs_weights"] <= 1e-2
    assert model["export"]["parity"]["tolerances"]["factor"] == 16
    assert model["onnxruntime"]["provider"] == "CPUExecutionProvider"
    assert model["onnxruntime"]["segmenter_batch_8"]["min_ms"] > 0
    assert model["tensorrt"] == {"skipped": "--cpu-smoke"}
    assert 0 < data["wall_s"] < 240


def test_the_shell_wrapper_runs_the_script_with_its_arguments() -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--help"],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "--cpu-smoke" in result.stdout and "--budget-s" in result.stdout
