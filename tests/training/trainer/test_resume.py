"""A run paused and resumed follows the same loss curve as an uninterrupted one."""

from __future__ import annotations

import shutil

import torch
from trainer_fixtures import scenes, tiny_config

from training.checkpoint import load_checkpoint, load_model
from training.trainer import checkpoints, train

# 2 background steps, then 3 foreground (frozen) + 3 joint: 8 global steps, 6 batches of 4
# per epoch of 24 images, so the run also crosses an epoch boundary.
CONFIG = dict(steps=6, frozen_background_steps=3, checkpoint_every=3)


def _run(out, records, **kwargs):
    return train(
        kwargs.pop("config", tiny_config(**CONFIG)),
        scenes(),
        out,
        on_step=records.append,
        progress=False,
        echo=lambda line: None,
        **kwargs,
    )


def test_paused_and_resumed_run_matches_an_uninterrupted_one(tmp_path):
    straight: list = []
    done = _run(tmp_path / "straight", straight)
    assert done.completed and done.step == 8

    pieces: list = []
    first = _run(tmp_path / "pieces", pieces, pause_at_step=2)  # at the phase 1/2 boundary
    assert (first.status, first.step) == ("paused", 2)
    assert (tmp_path / "pieces/checkpoints/background.pt").is_file()
    # A stale temp file from a process killed mid-write must not disturb the resume.
    stale = tmp_path / "pieces/checkpoints/.latest.pt.kill.tmp"
    stale.write_bytes(b"half a checkpoint")
    second = _run(tmp_path / "pieces", pieces, resume=True, config=None, pause_at_step=4)
    assert (second.status, second.step) == ("paused", 4)  # mid phase 2, mid epoch
    assert not stale.exists()
    third = _run(tmp_path / "pieces", pieces, resume=True, config=None)
    assert third.completed and third.step == 8

    assert [r.step for r in pieces] == list(range(8)) == [r.step for r in straight]
    assert [r.phase for r in pieces] == [r.phase for r in straight]
    for a, b in zip(straight, pieces, strict=True):
        assert a.losses.keys() == b.losses.keys()
        for name in a.losses:
            assert abs(a.losses[name] - b.losses[name]) <= 1e-6, (a.step, name)
        assert a.lr == b.lr
    model_a, _, _ = load_model(tmp_path / "straight")
    model_b, _, _ = load_model(tmp_path / "pieces")
    state_a, state_b = model_a.state_dict(), model_b.state_dict()
    assert state_a.keys() == state_b.keys()
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), name


def test_checkpoint_holds_everything_a_resume_needs(tmp_path):
    _run(tmp_path / "run", [], pause_at_step=5)
    data = load_checkpoint(tmp_path / "run")
    assert data["step"] == 5 and data["phase"] == "frozen"
    assert data["optimizer_kind"] == "foreground" and data["optimizer"]["state"]
    assert set(data["rng"]) >= {"python", "numpy", "torch"}
    assert data["data_order"] == {"seed": 0, "stream": 1, "next_batch": 3, "world_size": 1}
    assert data["state"]["images_seen"] == 5 * 4
    assert data["config"]["train"]["steps"] == 6


def _differing_weights(run_a, run_b):
    state_a, state_b = load_model(run_a)[0].state_dict(), load_model(run_b)[0].state_dict()
    assert state_a.keys() == state_b.keys()
    return [name for name in state_a if not torch.equal(state_a[name], state_b[name])]


def test_resume_from_a_periodic_checkpoint_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    """A SIGKILL leaves the last periodic latest.pt, not a pause's: resuming from the one
    written at each phase boundary (step 2 ends phase 1, step 5 hands the frozen phase over
    to joint training, both also a phase-end save) and mid-phase gives the same weights."""
    copies = tmp_path / "copies"
    copies.mkdir()
    write = checkpoints.write

    def keep_a_copy(path, payload, previous=None):
        write(path, payload, previous)
        if path.name == "latest.pt":
            shutil.copy(path, copies / f"{payload['step']}.pt")

    monkeypatch.setattr(checkpoints, "write", keep_a_copy)
    config = tiny_config(**{**CONFIG, "checkpoint_every": 1})
    assert _run(tmp_path / "straight", [], config=config).completed
    for step in (2, 4, 5, 6):
        run = tmp_path / f"from{step}"
        (run / "checkpoints").mkdir(parents=True)
        shutil.copy(copies / f"{step}.pt", run / "checkpoints/latest.pt")
        resumed = _run(run, [], resume=True, config=None)
        assert resumed.completed and resumed.step == 8
        assert _differing_weights(tmp_path / "straight", run) == [], step


def test_cpu_threads_come_from_omp_num_threads_not_from_the_caller(tmp_path, monkeypatch):
    """Why a SIGKILL test once saw every weight differ: its in-process baseline called
    torch.set_num_threads(1), `train` reset that from OMP_NUM_THREADS (2), and 2 threads sum
    in another order than the 1-thread children. A baseline must set OMP_NUM_THREADS."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    torch.set_num_threads(2)  # the conftest fixture restores the count afterwards
    lines: list[str] = []
    train(
        tiny_config(**CONFIG), scenes(), tmp_path / "run", pause_at_step=1, progress=False,
        echo=lines.append,
    )  # fmt: skip
    assert torch.get_num_threads() == 1
    assert any(line.startswith("device: cpu, 1 threads") for line in lines), lines
