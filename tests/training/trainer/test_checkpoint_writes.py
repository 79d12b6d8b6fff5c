"""A failed checkpoint write (full disk, file-size limit) leaves the previous one loadable."""

from __future__ import annotations

import errno
import os
import resource
import signal

import pytest
import torch
from trainer_fixtures import scenes, tiny_config

from training import checkpoint as checkpoint_module
from training.checkpoint import load_checkpoint, load_model
from training.trainer import TrainingError, train
from training.trainer.checkpoints import write


class _FillingDisk:
    """A file whose writes fail with ENOSPC once `room` bytes are written, like a full disk."""

    def __init__(self, handle, room):
        self.handle, self.room = handle, room

    def write(self, data):
        if self.room < len(data):
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.handle.write(data)

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()


def test_disk_full_during_a_save_stops_with_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    real_fdopen = checkpoint_module.os.fdopen
    calls = {"n": 0}

    def fdopen(fd, mode):
        handle = real_fdopen(fd, mode)
        if not os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(".latest.pt."):
            return handle
        calls["n"] += 1  # the second latest.pt runs out of space after 4 kB
        return _FillingDisk(handle, 4096) if calls["n"] == 2 else handle

    monkeypatch.setattr(checkpoint_module.os, "fdopen", fdopen)
    config = tiny_config(scenario="baseline", steps=6, checkpoint_every=2)
    with pytest.raises(TrainingError) as err:
        train(config, scenes(), tmp_path / "run", progress=False, echo=lambda line: None)
    latest = tmp_path / "run/checkpoints/latest.pt"
    assert "No space left on device" in str(err.value) and f"{latest} is intact" in str(err.value)
    assert calls["n"] == 2
    assert load_model(latest)[2]["step"] == 2
    assert list(latest.parent.iterdir()) == [latest]  # no temp file left behind


def test_file_size_limit_mid_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "latest.pt"
    write(path, {"config": {}, "model": {"w": torch.zeros(4)}, "step": 1})
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))
    try:
        with pytest.raises(TrainingError, match="could not write checkpoint .*File too large"):
            write(path, {"model": {"w": torch.zeros(100_000)}, "step": 2}, previous=path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    data = load_checkpoint(path)
    assert data["step"] == 1 and torch.equal(data["model"]["w"], torch.zeros(4))
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]
