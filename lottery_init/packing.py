"""Which jobs train together: populations of jobs that differ only in init and seed, sized to
the memory of the device that trains them."""

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from omegaconf import DictConfig

from lottery_init.config import without_members

# A population of this many members per CPU process is as fast per member as any larger one
# (benchmarks/population.py on 2 cores), and it reports results sooner.
CPU_POPULATION = 11


def members_that_fit(memory_bytes: float, member_mib: float, margin: float) -> int:
    """How many members of `member_mib` MiB each fit in `memory_bytes`, `margin` of it left free
    (at least one: a population of one is a single run)."""
    return max(1, int(memory_bytes * (1 - margin) // (member_mib * 2**20)))


@dataclass(frozen=True)
class MemoryFit:
    """The GPU memory a member takes (`member_mib`, MiB) and the share of a GPU left free."""

    member_mib: float
    margin: float

    def members(self, memory_bytes: float) -> int:
        """How many members fit in `memory_bytes`."""
        return members_that_fit(memory_bytes, self.member_mib, self.margin)


def pack(cfgs: Sequence[DictConfig], max_population: int | None, devices: int) -> list[list[int]]:
    """Indices of jobs grouped into populations: jobs that differ only in init and seed, at most
    `max_population` per population, split evenly so that every device gets work."""
    groups: dict[str, list[int]] = {}
    for index, cfg in enumerate(cfgs):
        groups.setdefault(json.dumps(without_members(cfg), sort_keys=True), []).append(index)
    populations = []
    for jobs in groups.values():
        cap = max_population or len(jobs)
        count = max(math.ceil(len(jobs) / cap), min(devices, len(jobs)))
        size, extra = divmod(len(jobs), count)
        starts = [k * size + min(k, extra) for k in range(count + 1)]
        populations += [jobs[a:b] for a, b in zip(starts, starts[1:], strict=False)]
    return populations
