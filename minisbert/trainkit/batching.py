"""How a training run cuts its examples into steps, epoch by epoch.

`Plan` shuffles the examples anew each epoch (from the run's seed and the epoch
number, so a resumed run finds the same batches) and cuts the order into global
batches of batch_size x processes.

`NoDuplicatesPlan` adds one rule: no text twice in a global batch. In-batch
objectives (MultipleNegativesRankingLoss, and CoSENT's comparisons across pairs)
treat every other candidate of the batch as a negative. If the same sentence is
the positive of two anchors, or one pair's positive is another's anchor, the
loss pushes a sentence away from itself: a *false negative*. So an example whose
texts are already in the batch waits for the next one (the order otherwise
stays the shuffled one).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property

import torch

from . import distributed


@dataclass
class Plan:
    """Global batches of consecutive rows of each epoch's shuffled order."""
    examples: int
    global_batch: int
    epochs: int
    seed: int

    def order(self, epoch: int) -> list[int]:
        return torch.randperm(self.examples, generator=torch.Generator().manual_seed(self.seed + epoch)).tolist()

    def steps_in(self, epoch: int) -> int:
        return math.ceil(self.examples / self.global_batch)

    @cached_property
    def _epoch_ends(self) -> list[int]:
        """The step count at the end of each epoch: [s_0, s_0 + s_1, ...]."""
        ends, total = [], 0
        for epoch in range(self.epochs):
            total += self.steps_in(epoch)
            ends.append(total)
        return ends

    @property
    def total(self) -> int:
        return self._epoch_ends[-1]

    def locate(self, step: int) -> tuple[int, int]:
        """(epoch, index of the batch within it) of a step counted from 0."""
        epoch = bisect.bisect_right(self._epoch_ends, step)
        return epoch, step - (self._epoch_ends[epoch - 1] if epoch else 0)

    def ends_epoch(self, steps_done: int) -> bool:
        return steps_done in self._epoch_ends

    def epoch_position(self, steps_done: int) -> float:
        """Epochs done, fractional: 1.5 halfway through the second epoch."""
        epoch, within = self.locate(steps_done - 1)
        return epoch + (within + 1) / self.steps_in(epoch)

    def rows(self, step: int) -> list[int]:
        """The example indices of a step's global batch."""
        epoch, within = self.locate(step)
        rows = self._batch(epoch, within)
        if distributed.world_size() > 1 and len(rows) < self.global_batch:  # every process needs a full share
            rows = rows + self.order(epoch)[:self.global_batch - len(rows)]
        return rows

    def _batch(self, epoch: int, within: int) -> list[int]:
        """One slice of the epoch's order: the only batch a step needs."""
        return self.order(epoch)[within * self.global_batch:(within + 1) * self.global_batch]


@dataclass
class NoDuplicatesPlan(Plan):
    """Like Plan, but no text appears twice in one global batch (see the module's docstring)."""
    texts: list[tuple[str, ...]] = field(default_factory=list)  # each example's texts

    def batches(self, epoch: int) -> list[list[int]]:
        waiting = deque(self.order(epoch))
        batches = []
        while waiting:
            batch, seen, skipped = [], set(), []
            while waiting and len(batch) < self.global_batch:
                i = waiting.popleft()
                if seen.isdisjoint(self.texts[i]):
                    batch.append(i)
                    seen.update(self.texts[i])
                else:
                    skipped.append(i)  # a text of it is in the batch already: it goes into the next one
            waiting.extendleft(reversed(skipped))  # back at the front, in their order
            batches.append(batch)
        return batches

    def steps_in(self, epoch: int) -> int:
        return len(self._all_batches[epoch])

    @cached_property
    def _all_batches(self) -> list[list[list[int]]]:
        return [self.batches(epoch) for epoch in range(self.epochs)]  # the steps of each epoch must be known

    def _batch(self, epoch: int, within: int) -> list[int]:
        return self._all_batches[epoch][within]
