"""Training and evaluation batches of a population, from device-resident tensors: `[P, B, ...]`
with one shuffle per member, the next epoch's orders drawn while the current one trains."""

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import torch

# Draws the next epoch's data orders while the current epoch trains, on one CPU thread: with
# torch's default it would start a second OpenMP team, which slows every later training step
# two- to fourfold on a CPU as the two teams spin against each other.
_AHEAD = ThreadPoolExecutor(
    max_workers=1,
    thread_name_prefix="data-orders",
    initializer=torch.set_num_threads,
    initargs=(1,),
)

Batch = tuple[torch.Tensor, torch.Tensor]


def draw_orders(gens: Sequence[torch.Generator], n: int, pin: bool) -> torch.Tensor:
    """One epoch's order of `n` examples per member `[P, n]`, drawn on the CPU (so that a seed
    gives the same order on every device), in pinned memory when `pin` (for a copy to the GPU
    that does not wait)."""
    orders = torch.stack([torch.randperm(n, generator=g) for g in gens])
    return orders.pin_memory() if pin else orders


def copies(gens: Sequence[torch.Generator]) -> list[torch.Generator]:
    """Generators in the states of `gens`, to draw ahead without moving `gens` themselves."""
    return [torch.Generator().set_state(g.get_state()) for g in gens]


class PopulationBatches:
    """One epoch of training batches `[P, B, *image]`, member p in its own shuffled order, handed
    out in chunks of up to `chunk` batches (one chunk per Lightning step)."""

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        gens: list[torch.Generator],
        chunk: int = 1,
        ahead: bool | None = None,
    ) -> None:
        self.x, self.y, self.batch_size, self.gens, self.chunk = x, y, batch_size, gens, chunk
        # Drawing ahead pays where the training runs on a GPU and the CPU cores wait; on the CPU
        # the draw competes with training for the cores (a run's epochs took 25% longer here).
        self.ahead = x.is_cuda if ahead is None else ahead
        self._ahead: tuple[list[torch.Tensor], Future, list[torch.Generator]] | None = None

    def __len__(self) -> int:
        batches = -(-len(self.y) // self.batch_size)
        return -(-batches // self.chunk)

    def orders(self) -> torch.Tensor:
        """This epoch's orders on the data's device, drawn ahead during the last epoch where the
        generators are still where that draw began; then the next epoch's draw starts (with
        `ahead`, by default where the data is on a GPU)."""
        pin = self.x.is_cuda
        ahead, self._ahead = self._ahead, None
        states = [g.get_state() for g in self.gens]
        if ahead is not None and all(map(torch.equal, ahead[0], states)):
            orders, drawn_by = ahead[1].result(), ahead[2]
            # The generators move on as if they had drawn these orders themselves, which they
            # would have, so checkpoints and resumes see the same states as without drawing ahead.
            for g, done in zip(self.gens, drawn_by, strict=True):
                g.set_state(done.get_state())
        else:
            orders = draw_orders(self.gens, len(self.y), pin)
        if self.ahead:
            spare = copies(self.gens)
            future = _AHEAD.submit(draw_orders, spare, len(self.y), pin)
            self._ahead = ([g.get_state() for g in self.gens], future, spare)
        return orders.to(self.x.device, non_blocking=True)

    def __iter__(self) -> Iterator[list[Batch]]:
        orders = self.orders()
        step = self.batch_size * self.chunk
        for chunk_start in range(0, len(self.y), step):
            stop = min(chunk_start + step, len(self.y))
            indices = orders[:, chunk_start:stop].split(self.batch_size, dim=1)
            yield [(self.x[index], self.y[index]) for index in indices]


class TestBatches:
    """The evaluation set in large batches, the same images for every member."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, population: int) -> None:
        self.x, self.y, self.batch_size, self.population = x, y, batch_size, population

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        p = self.population
        for start in range(0, len(self.y), self.batch_size):
            x, y = self.x[start : start + self.batch_size], self.y[start : start + self.batch_size]
            yield x.expand(p, *x.shape), y.expand(p, *y.shape)
