"""A dataset as device-resident tensors, served as `[P, B, C, H, W]` batches with one shuffle per
member."""

from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytorch_lightning as pl
import torch

from lottery_init.data import cifar10, fashion_mnist, mnist
from lottery_init.data.batches import Batch, PopulationBatches, TestBatches, copies, draw_orders
from lottery_init.data.dataset import dataset_of, normalize
from lottery_init.seeding import generator

# Each dataset's reader: `prepare(data_dir, dataset)` fetches, `load(data_dir, dataset)` reads.
READERS: dict[str, ModuleType] = {
    "mnist": mnist,
    "fashion_mnist": fashion_mnist,
    "cifar10": cifar10,
}
# The validation split is the same for every run seed, so runs are compared on the same images.
SPLIT_SEED = 20190306
# Most numbers the layers output in one evaluation block, over its members and images: LeNet-300-
# 100's 410 per image for 2**20 rows (members x images) take 1.6 GiB. The study's 88 members
# still see the whole test set in one block (880,000 rows); larger populations, and models with
# more activations per image (a conv net's maps), evaluate it in slices.
EVAL_NUMBERS = 2**20 * 410


class ImageDataModule(pl.LightningDataModule):
    """A dataset for a population of members, each shuffled by a generator seeded with its own
    seed; `facts` are the keys of `conf/data/<name>.yaml` (name, shape, classes, sizes, ...),
    `activations` the numbers the model's layers output per image (to size evaluation blocks)."""

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
        activations: int = 410,
        **facts: Any,
    ) -> None:
        super().__init__()
        self.seeds, self.data_dir = list(seeds), Path(data_dir)
        self.dataset = dataset_of(facts)
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.train_size, self.test_size, self.chunk = train_size, test_size, chunk
        self.val_size, self.activations = val_size, activations
        self.gens = [generator(seed, "data") for seed in self.seeds]
        self.device = torch.device("cpu")
        self.files: dict[str, str] = {}

    def prepare_data(self) -> None:
        """Fetch the dataset's files where they are missing (first run only)."""
        READERS[self.dataset.name].prepare(self.data_dir, self.dataset)

    def setup(self, stage: str | None = None) -> None:
        """Load the dataset onto the training device, optionally the first `train_size`/
        `test_size`, and hold out `val_size` training images, chosen by a fixed seed."""
        if self.trainer is not None:
            self.device = self.trainer.strategy.root_device
        raw = READERS[self.dataset.name].load(self.data_dir, self.dataset)
        self.files = raw.files
        n_train, n_test = self.train_size, self.test_size
        x, y = normalize(raw.train_x[:n_train], self.dataset), raw.train_y[:n_train]
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed(SPLIT_SEED))
        val, train = order[: self.val_size or 0], order[self.val_size or 0 :].sort().values
        self.split = {"train": train, "val": val}  # indices into the training images
        self.train_x, self.train_y = x[train].to(self.device), y[train].to(self.device)
        self.val_x, self.val_y = x[val].to(self.device), y[val].to(self.device)
        self.test_x = normalize(raw.test_x[:n_test], self.dataset).to(self.device)
        self.test_y = raw.test_y[:n_test].to(self.device)

    def record(self) -> dict[str, Any]:
        """The dataset and the files read, with their verified MD5s, for `run.json`."""
        return {"dataset": self.dataset.name, "files": dict(self.files)}

    def train_dataloader(self) -> PopulationBatches:
        return PopulationBatches(self.train_x, self.train_y, self.batch_size, self.gens, self.chunk)

    def _first_orders(self) -> torch.Tensor:
        """Each member's order of the first epoch `[P, N]`, drawn from copies of its generators,
        so that epoch still sees the images taken from it."""
        return draw_orders(copies(self.gens), len(self.train_y), pin=False)

    def first_images(self, n: int) -> Batch:
        """Each member's first `n` training images `[P, n, ...]` and labels in its own order of
        the first epoch."""
        orders = self._first_orders()[:, :n].to(self.device)
        return self.train_x[orders], self.train_y[orders]

    def first_images_per_class(self, per_class: int) -> Batch:
        """Each member's first `per_class` training images of every class `[P, per_class * C,
        ...]`, class by class, in its own order of the first epoch (GraSP's class-balanced batch,
        Wang et al. 2020)."""
        orders = self._first_orders().to(self.device)
        classes, counts = torch.unique(self.train_y, return_counts=True)
        if counts.min() < per_class:
            raise ValueError(
                f"prune.images_per_class={per_class}, but the training set holds only "
                f"{int(counts.min())} images of its rarest class."
            )
        picked = [
            torch.cat([order[self.train_y[order] == c][:per_class] for c in classes])
            for order in orders
        ]
        orders = torch.stack(picked)
        return self.train_x[orders], self.train_y[orders]

    def val_dataloader(self) -> list[TestBatches]:
        """The test set (dataloader 0), then the validation split when there is one."""
        sets = [(self.test_x, self.test_y)] + ([(self.val_x, self.val_y)] if self.val_size else [])
        # A large population evaluates the images in slices rather than in one huge block.
        rows = EVAL_NUMBERS // (len(self.seeds) * self.activations)
        size = max(1, min(self.eval_batch_size, rows))
        return [TestBatches(x, y, size, len(self.seeds)) for x, y in sets]

    def state_dict(self) -> dict[str, list[torch.Tensor]]:
        """The members' shuffle generators, so a resumed run sees the same data order."""
        return {"gens": [g.get_state() for g in self.gens]}

    def load_state_dict(self, state_dict: Mapping[str, list[torch.Tensor]]) -> None:
        for g, state in zip(self.gens, state_dict["gens"], strict=True):
            g.set_state(state)
