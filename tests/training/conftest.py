"""Trainer tests run their torch work on one thread: on two cores shared with other work,
two OpenMP threads per process spend most of a tiny step waiting on each other."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
