"""Length-bucketed batching: rows of similar length share a batch, so padding stays small."""
from __future__ import annotations

import random
from typing import Iterator

from torch.utils.data import Sampler


class BucketBatchSampler(Sampler[list[int]]):
    """Yields batches of indices whose lengths are close.

    Training order: shuffle, cut into pools of ``pool_batches`` batches, sort each pool by length,
    cut into batches, shuffle the batches. Each pass (one per epoch) uses ``seed + epoch`` and then
    counts the epoch up; ``epoch`` starts at the trainer's epoch when the loader is built, so a run
    resumed from a checkpoint sees the same batches as one that was never interrupted. Evaluation order (``shuffle=False``): sorted by length.
    """

    def __init__(self, lengths: list[int], batch_size: int, shuffle: bool, seed: int = 0, pool_batches: int = 50,
                 epoch: int = 0):
        self.lengths, self.batch_size, self.shuffle = lengths, batch_size, shuffle
        self.seed, self.pool = seed, pool_batches * batch_size
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[list[int]]:
        order = list(range(len(self.lengths)))
        if not self.shuffle:
            order.sort(key=lambda i: self.lengths[i])
            yield from (order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size))
            return
        rng = random.Random(self.seed + self.epoch)
        self.epoch += 1
        rng.shuffle(order)
        batches = []
        for start in range(0, len(order), self.pool):
            pool = sorted(order[start : start + self.pool], key=lambda i: self.lengths[i])
            batches += [pool[i : i + self.batch_size] for i in range(0, len(pool), self.batch_size)]
        rng.shuffle(batches)
        yield from batches

    def __len__(self) -> int:
        return (len(self.lengths) + self.batch_size - 1) // self.batch_size
