"""MNIST as device-resident tensors, served as `[P, B, 784]` batches with one shuffle per member."""

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytorch_lightning as pl
import torch

from lottery_init import mnist
from lottery_init.seeding import generator

MEAN, STD = 0.1307, 0.3081
# The validation split is the same for every run seed, so runs are compared on the same images.
SPLIT_SEED = 20190306
# Most rows (members x images) in one evaluation block: 2**20 rows of the 300 activations of
# LeNet-300-100's first layer take 1.2 GiB. The study's 88 members still see the whole test set
# in one block (880,000 rows); larger populations evaluate it in slices.
EVAL_ROWS = 2**20
# Draws the next epoch's data orders while the current epoch trains.
_AHEAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="data-orders")


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 images `[N, 28, 28]` to float32 `[N, 784]`: scaled to [0, 1], then standardized."""
    return (images.flatten(1).float() / 255 - MEAN) / STD


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
    """One epoch of training batches `[P, B, 784]`, member p in its own shuffled order, handed
    out in chunks of up to `chunk` batches (one chunk per Lightning step)."""

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        gens: list[torch.Generator],
        chunk: int = 1,
    ) -> None:
        self.x, self.y, self.batch_size, self.gens, self.chunk = x, y, batch_size, gens, chunk
        self._ahead: tuple[list[torch.Tensor], Future, list[torch.Generator]] | None = None

    def __len__(self) -> int:
        batches = -(-len(self.y) // self.batch_size)
        return -(-batches // self.chunk)

    def orders(self) -> torch.Tensor:
        """This epoch's orders on the data's device, drawn ahead during the last epoch where the
        generators are still where that draw began; then the next epoch's draw starts."""
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


class MNISTDataModule(pl.LightningDataModule):
    """MNIST for a population of members, each shuffled by a generator seeded with its own seed."""

    def __init__(
        self,
        seeds: list[int],
        data_dir: str | Path,
        batch_size: int = 60,
        eval_batch_size: int = 10_000,
        train_size: int | None = None,
        test_size: int | None = None,
        chunk: int = 50,
        val_size: int | None = None,
    ) -> None:
        super().__init__()
        self.seeds, self.data_dir = list(seeds), Path(data_dir)
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.train_size, self.test_size, self.chunk = train_size, test_size, chunk
        self.val_size = val_size
        self.gens = [generator(seed, "data") for seed in self.seeds]
        self.device = torch.device("cpu")

    def prepare_data(self) -> None:
        """Fetch and verify the MNIST files (first run only)."""
        mnist.prepare(self.data_dir)

    def setup(self, stage: str | None = None) -> None:
        """Load MNIST onto the training device, optionally the first `train_size`/`test_size`,
        and hold out `val_size` training images, chosen by a fixed seed, for validation."""
        if self.trainer is not None:
            self.device = self.trainer.strategy.root_device
        raw = mnist.load(self.data_dir)
        n_train, n_test = self.train_size, self.test_size
        x, y = normalize(raw["train_x"][:n_train]), raw["train_y"][:n_train].long()
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed(SPLIT_SEED))
        val, train = order[: self.val_size or 0], order[self.val_size or 0 :].sort().values
        self.split = {"train": train, "val": val}  # indices into the training images
        self.train_x, self.train_y = x[train].to(self.device), y[train].to(self.device)
        self.val_x, self.val_y = x[val].to(self.device), y[val].to(self.device)
        self.test_x = normalize(raw["test_x"][:n_test]).to(self.device)
        self.test_y = raw["test_y"][:n_test].long().to(self.device)

    def train_dataloader(self) -> PopulationBatches:
        return PopulationBatches(self.train_x, self.train_y, self.batch_size, self.gens, self.chunk)

    def val_dataloader(self) -> list[TestBatches]:
        """The test set (dataloader 0), then the validation split when there is one."""
        sets = [(self.test_x, self.test_y)] + ([(self.val_x, self.val_y)] if self.val_size else [])
        # A large population evaluates the images in slices rather than in one huge block.
        size = max(1, min(self.eval_batch_size, EVAL_ROWS // len(self.seeds)))
        return [TestBatches(x, y, size, len(self.seeds)) for x, y in sets]

    def state_dict(self) -> dict[str, list[torch.Tensor]]:
        """The members' shuffle generators, so a resumed run sees the same data order."""
        return {"gens": [g.get_state() for g in self.gens]}

    def load_state_dict(self, state_dict: dict[str, list[torch.Tensor]]) -> None:
        for g, state in zip(self.gens, state_dict["gens"], strict=True):
            g.set_state(state)
