"""Where and in what precision a run computes: device choice, CPU threads, autocast."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from training.trainer.errors import TrainingError


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cpu_threads(world_size: int = 1) -> int:
    """Threads = cores, shared out between the processes of a multi-process CPU run; an
    explicit OMP_NUM_THREADS (torchrun sets 1 per worker) is respected."""
    explicit = os.environ.get("OMP_NUM_THREADS", "")
    if explicit.isdigit() and int(explicit) > 0:
        return int(explicit)
    return max(1, usable_cores() // max(1, world_size))


def resolve_device(name: str, local_rank: int = 0, world_size: int = 1) -> torch.device:
    """`cpu`, `cuda` or `cuda:N`; under torchrun `cuda` means this process's own GPU."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise TrainingError(f"unknown device '{name}'; use cpu, cuda or cuda:N") from None
    if device.type == "cpu":
        torch.set_num_threads(cpu_threads(world_size))
        return torch.device("cpu")
    if device.type != "cuda":
        raise TrainingError(f"unsupported device '{name}'; use cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise TrainingError(f"device '{name}' asked for, but no CUDA GPU is visible; use cpu")
    if world_size > 1:
        device = torch.device("cuda", local_rank)
    elif device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    if device.index >= torch.cuda.device_count():
        raise TrainingError(
            f"device '{device}' does not exist; this machine has {torch.cuda.device_count()} GPU(s)"
        )
    torch.cuda.set_device(device)
    return device


@dataclass
class Precision:
    """Autocast dtype (None = float32) and the grad scaler fp16 needs."""

    dtype: torch.dtype | None
    scaler: torch.amp.GradScaler | None

    @property
    def name(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        if self.dtype is None:
            yield
        else:
            with torch.autocast("cuda", dtype=self.dtype):
                yield


def choose_precision(device: torch.device, amp: bool) -> Precision:
    """bf16 autocast where the GPU supports it, else fp16 with a grad scaler; fp32 on CPU."""
    if device.type != "cuda" or not amp:
        return Precision(None, None)
    if torch.cuda.is_bf16_supported():
        return Precision(torch.bfloat16, None)
    return Precision(torch.float16, torch.amp.GradScaler("cuda"))
