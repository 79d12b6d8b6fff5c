"""DistributedDataParallel on CPU (gloo, 2 processes via torchrun): identical weights on every
rank, disjoint per-rank batches, global batch = per-rank batch x world size."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from trainer_fixtures import DATA_SPEC, scenes, tiny_config, tiny_yaml

from training.checkpoint import load_checkpoint
from training.trainer.batch_order import BatchOrder
from training.trainer.command import TrainCommand
from training.trainer.launch import parse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def _torchrun(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _global_batch_sum(dataset, order: BatchOrder, batch: int) -> float:
    return sum(
        float(dataset[i].image.astype("float64").sum()) / 255.0 for i in order.global_indices(batch)
    )


def test_two_gloo_ranks_stay_identical_and_split_the_global_batch(tmp_path):
    proc = _torchrun([str(HERE / "ddp_worker.py"), str(tmp_path)], ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]

    assert ranks[0]["weights"].keys() == ranks[1]["weights"].keys()
    for name, value in ranks[0]["weights"].items():
        assert torch.equal(value, ranks[1]["weights"][name]), name
    assert len(ranks[0]["weights"]) > 50

    config = tiny_config(steps=3, frozen_background_steps=1)
    per_rank = config.train.batch_size
    data = scenes()
    phases = [(0, 2), (1, 1), (2, 2)]  # (stream, steps): background, frozen, joint
    step = 0
    for stream, steps in phases:
        order = BatchOrder(len(data), per_rank, config.train.seed, stream, world_size=2)
        for batch in range(steps):
            (n0, sum0), (n1, sum1) = ranks[0]["seen"][step], ranks[1]["seen"][step]
            assert n0 == n1 == per_rank
            assert sum0 != sum1  # each rank reads its own slice
            assert sum0 + sum1 == pytest.approx(_global_batch_sum(data, order, batch), rel=1e-7)
            step += 1
    assert step == len(ranks[0]["seen"]) == 5

    saved = load_checkpoint(tmp_path / "run")  # written by rank 0 alone
    assert saved["step"] == 5 and saved["data_order"]["world_size"] == 2
    assert saved["state"]["images_seen"] == 5 * per_rank * 2
    assert not list(tmp_path.glob("run/checkpoints/.*.tmp"))


def test_astseg_train_gpus_2_launches_torchrun_and_finishes(tmp_path):
    config = tiny_yaml(tmp_path / "tiny.yaml", batch_size=2, steps=2, frozen_background_steps=1)
    run = tmp_path / "run"
    args = ["--gpus", "2", "--device", "cpu", "--preset", "cpu", "--config", str(config)]
    args += ["--data", DATA_SPEC, "--out", str(run)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "train", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1].startswith("finished step 4/4 in ")
    assert "2 processes" in proc.stdout and "batch 2 x 2" in proc.stdout
    saved = load_checkpoint(run)
    assert saved["step"] == 4 and saved["data_order"]["world_size"] == 2


def test_launch_arguments_rebuild_the_command():
    command = TrainCommand(
        data="folder:/d",
        preset="cpu",
        sets=["train.lr=1e-3", "model.num_slots=3"],
        out="runs/x",
        device="cpu",
        scenario="baseline",
        val_data="folder:/v",
    )
    assert parse(command.to_argv()) == command
    background = TrainCommand(data="video:/v.mp4", out="r", device="cuda", background_only=True)
    assert parse(background.to_argv()) == background
    assert background.resume_hint(4) == "astseg train background --resume --out r --gpus 4"
