"""Which jobs train together: populations of jobs that differ only in init and seed, sized to
the memory of the device that trains them."""

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from lottery_init.config.compose import without_members
from lottery_init.data.datamodule import EVAL_NUMBERS
from lottery_init.models.layers import activations_per_image

# A population of this many members per CPU process is as fast per member as any larger one
# (benchmarks/population.py on 2 cores), and it reports results sooner.
CPU_POPULATION = 11
# An evaluation block's numbers at most, whatever the population (data.module.EVAL_NUMBERS).
EVAL_BYTES = 4 * EVAL_NUMBERS


def members_that_fit(memory_bytes: float, member_mib: float, margin: float) -> int:
    """How many members of `member_mib` MiB each fit in `memory_bytes`, `margin` of it left free
    (at least one: a population of one is a single run)."""
    return max(1, int(memory_bytes * (1 - margin) // (member_mib * 2**20)))


# What the estimate leaves out (allocator slack, the loss's buffers): benchmarks/member_memory.py
# measured 39.0 MiB per LeNet-300-100 member on MNIST, where this estimate, with the member's
# share of the evaluation block, gives 32.0.
SLACK = 1.25


@functools.cache
def _member_bytes(run: str) -> float:
    """`member_bytes` of a JSON run config (model, data and batch size)."""
    cfg = json.loads(run)
    model = instantiate(cfg["model"], population=1)
    params = sum(p.numel() for p in model.parameters())
    shape, data, batch = cfg["data"]["shape"], cfg["data"], cfg["batch_size"]
    numbers = (
        7 * params  # weights, gradients, Adam's two moments, θ₀, float masks, late-rewind weights
        + data["chunk"] * batch * math.prod(shape)  # a chunk's gathered images
        + 3 * batch * activations_per_image(model, shape)  # what a step keeps for backward
    )
    return 4 * numbers * SLACK


def member_bytes(cfg: DictConfig) -> float:
    """Estimated device memory of one member of a run config's population while it trains
    (float32 numbers); evaluation blocks are bounded for the whole population (EVAL_BYTES)."""
    run = {k: OmegaConf.to_container(cfg[k], resolve=True) for k in ("model", "data")}
    return _member_bytes(json.dumps(run | {"batch_size": cfg.batch_size}, sort_keys=True))


@dataclass(frozen=True)
class MemoryFit:
    """The GPU memory a member takes (`member_mib`, MiB; None: estimated from the jobs by
    `member_bytes`), the share of a GPU left free, and bytes set aside for the whole population
    (`reserved`: an evaluation block, where members are estimated)."""

    member_mib: float | None
    margin: float
    reserved: float = 0.0

    def for_jobs(self, cfgs: Sequence[DictConfig]) -> "MemoryFit":
        """This fit, its member size the largest of the jobs' estimates where none was set."""
        if self.member_mib is not None or not cfgs:
            return self
        largest = max(member_bytes(cfg) for cfg in cfgs)
        return MemoryFit(largest / 2**20, self.margin, EVAL_BYTES)

    def members(self, memory_bytes: float) -> int:
        """How many members fit in `memory_bytes`."""
        if self.member_mib is None:
            raise ValueError("no member size: call for_jobs with the sweep's jobs first.")
        usable = memory_bytes - self.reserved / (1 - self.margin)
        return members_that_fit(usable, self.member_mib, self.margin)


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
