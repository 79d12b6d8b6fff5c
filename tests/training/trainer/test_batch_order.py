"""The data order: deterministic, resumable from a batch number, sharded across ranks."""

from __future__ import annotations

from collections import Counter

from training.trainer.batch_order import BatchOrder, BatchSampler


def test_same_seed_same_batches_and_each_epoch_is_a_permutation():
    a = BatchOrder(10, 4, seed=3, stream=1)
    b = BatchOrder(10, 4, seed=3, stream=1)
    batches = [a.indices(i) for i in range(5)]  # 20 samples = two epochs
    assert batches == [b.indices(i) for i in range(5)]
    flat = [i for batch in batches for i in batch]
    assert sorted(flat[:10]) == list(range(10))
    assert sorted(flat[10:]) == list(range(10))
    assert flat[:10] != flat[10:]  # reshuffled per epoch
    assert BatchOrder(10, 4, seed=4, stream=1).indices(0) != batches[0]
    assert BatchOrder(10, 4, seed=3, stream=2).indices(0) != batches[0]


def test_a_sampler_started_at_batch_n_continues_the_same_sequence():
    order = BatchOrder(7, 3, seed=0, stream=0)
    full = iter(BatchSampler(order, 0))
    expected = [next(full) for _ in range(6)]
    resumed = iter(BatchSampler(BatchOrder(7, 3, seed=0, stream=0), 4))
    assert [next(resumed), next(resumed)] == expected[4:6]


def test_ranks_split_each_global_batch_into_disjoint_slices():
    world, per_rank = 3, 2
    orders = [BatchOrder(11, per_rank, 5, 0, rank=r, world_size=world) for r in range(world)]
    single = BatchOrder(11, per_rank * world, 5, 0)  # one process, N times the batch
    for batch in range(8):
        slices = [o.indices(batch) for o in orders]
        assert all(len(s) == per_rank for s in slices)
        merged = [i for s in slices for i in s]
        assert orders[0].global_batch_size == per_rank * world == len(merged)
        assert merged == single.indices(batch)
    seen = Counter(i for batch in range(11) for o in orders for i in o.indices(batch))
    assert set(seen.values()) == {6}  # 66 draws over 11 samples: every sample 6 times
