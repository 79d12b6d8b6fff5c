"""Multi-process training with PyTorch's own engine (torchrun + DistributedDataParallel).

Started by torchrun, a process finds RANK / WORLD_SIZE / LOCAL_RANK in its environment;
a plain `python` run is a world of one. Ranks must take the same decisions (skip a NaN
step, stop on a signal, stop after a failed checkpoint write) or a collective would hang,
so every such decision goes through `agree`.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass
class Distributed:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    owns_group: bool = False  # this object started the process group, so it ends it

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    def agree(self, flags: list[bool], device: torch.device) -> list[bool]:
        """Each flag is true on every rank if it is true on any rank."""
        if not self.enabled:
            return flags
        tensor = torch.tensor([float(f) for f in flags], device=device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return [bool(v) for v in tensor.tolist()]

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def wrap(self, module: nn.Module, device: torch.device) -> nn.Module:
        """DDP around `module`, built for the parameters that currently require grad."""
        if not self.enabled:
            return module
        # CPU depthwise convolutions return gradients whose size-1 dimension has another
        # stride than DDP's bucket view: the same memory layout, so the warning is noise.
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids)

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self.owns_group = False


def start(device_name: str) -> Distributed:
    """Joins the process group torchrun (or a test harness) set up; a world of one otherwise."""
    if dist.is_available() and dist.is_initialized():
        return Distributed(
            dist.get_rank(),
            int(os.environ.get("LOCAL_RANK", dist.get_rank())),
            dist.get_world_size(),
        )
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed()
    backend = "nccl" if device_name.startswith("cuda") else "gloo"
    dist.init_process_group(backend=backend)
    return Distributed(
        dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0")), world_size, owns_group=True
    )
