"""Trainer tests run their torch work on one thread: on two cores shared with other work,
two OpenMP threads per process spend most of a tiny step waiting on each other."""

from __future__ import annotations

import pytest
import torch

from training.model import ASTSeg


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def model_and_batch(tiny_config):
    """A tiny model whose slots start visible, with two random images and backgrounds (the
    objective's tests)."""
    torch.manual_seed(0)
    model = ASTSeg(tiny_config(slot_activation_init=11.0, s_max=8.0))
    images = torch.rand(2, 3, 64, 64)
    background = torch.rand(2, 3, 64, 64)
    return model, images, background
