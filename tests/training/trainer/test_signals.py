"""SIGINT / SIGTERM: a checkpoint, exit 130 / 143 (interrupted, not finished), and one line
saying how to resume (real CLI)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from trainer_fixtures import DATA_SPEC, tiny_yaml

from training.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[3]


def _start(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "train", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def _stop(proc: subprocess.Popen, sig: int) -> tuple[str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 128 + sig, err  # 130 for SIGINT, 143 for SIGTERM
    assert "Traceback" not in err
    return out, err


def test_sigint_then_sigterm_save_and_exit_128_plus_n_and_the_run_resumes(tmp_path):
    config = tiny_yaml(
        tmp_path / "tiny.yaml", batch_size=2, steps=100_000, frozen_background_steps=10
    )
    run = tmp_path / "run"
    args = ["--preset", "cpu", "--config", str(config), "--data", DATA_SPEC, "--out", str(run)]
    proc = _start(args)
    _wait_for(run / "checkpoints" / "background.pt", proc)  # phase 1 is over: mid-run now
    out, _ = _stop(proc, signal.SIGINT)
    last = out.strip().splitlines()[-1]
    step = load_checkpoint(run)["step"]
    assert step >= 2
    assert last == (
        f"stopped by SIGINT at step {step}/100002; checkpoint saved to "
        f"{run}/checkpoints/latest.pt; resume with: astseg train --resume --out {run}"
    )

    proc = _start(["--resume", "--out", str(run)])  # the data spec comes from the checkpoint
    for line in proc.stdout:
        if line.startswith("resuming at step"):
            break
    assert line.strip() == f"resuming at step {step} of 100002", proc.communicate()
    time.sleep(0.5)
    out, _ = _stop(proc, signal.SIGTERM)
    resumed = load_checkpoint(run)
    assert resumed["step"] > step
    assert out.strip().splitlines()[-1].startswith(f"stopped by SIGTERM at step {resumed['step']}/")
