"""Which samples form each batch: a pure function of (seed, stream, batch number).

A run resumed at batch b therefore reads exactly the batches an uninterrupted run would
have read, without saving any sampler state beyond the batch number. It is also the
distributed sampler: global batch b (per-rank batch × world size samples, drawn from one
shuffled epoch order shared by every rank) is cut into `world_size` disjoint slices, one
per rank, so a run on N processes sees the same samples per step as one process with an
N times larger batch.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class BatchOrder:
    def __init__(
        self,
        dataset_size: int,
        batch_size: int,
        seed: int,
        stream: int,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if dataset_size < 1:
            raise ValueError("cannot draw batches from an empty dataset")
        self.size = dataset_size
        self.batch_size = batch_size
        self.seed = seed
        self.stream = stream
        self.rank = rank
        self.world_size = world_size
        self._epoch = -1
        self._permutation = np.empty(0, np.int64)

    @property
    def global_batch_size(self) -> int:
        return self.batch_size * self.world_size

    def _order(self, epoch: int) -> np.ndarray:
        if epoch != self._epoch:
            rng = np.random.default_rng([self.seed, self.stream, epoch])
            self._permutation = rng.permutation(self.size)
            self._epoch = epoch
        return self._permutation

    def global_indices(self, batch: int) -> list[int]:
        """Every rank's samples of global batch `batch`, rank 0's slice first."""
        wanted = self.global_batch_size
        position = batch * wanted
        out: list[int] = []
        while len(out) < wanted:
            epoch, offset = divmod(position, self.size)
            take = min(wanted - len(out), self.size - offset)
            out.extend(int(i) for i in self._order(epoch)[offset : offset + take])
            position += take
        return out

    def indices(self, batch: int) -> list[int]:
        """This rank's slice of global batch `batch`."""
        start = self.rank * self.batch_size
        return self.global_indices(batch)[start : start + self.batch_size]


class BatchSampler:
    """An endless `batch_sampler` for `DataLoader`, starting at batch `first`."""

    def __init__(self, order: BatchOrder, first: int) -> None:
        self.order = order
        self.first = first

    def __iter__(self) -> Iterator[list[int]]:
        batch = self.first
        while True:
            yield self.order.indices(batch)
            batch += 1
