"""Helpers shared by the tests: config files, a tiny synthetic data module, a quiet Trainer."""

import subprocess
import sys
import time

import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from lottery_init.config.compose import compose as compose_run
from lottery_init.config.paths import ROOT
from lottery_init.data.batches import PopulationBatches, TestBatches, copies, draw_orders
from lottery_init.data.datamodule import ImageDataModule
from lottery_init.seeding import generator

INIT_FILES = sorted((ROOT / "conf" / "init").glob("*.yaml"))

# Small settings for runs through the real entry point.
TINY = [
    "data.train_size=600",
    "data.test_size=200",
    "trainer=cpu",
    "+trainer.enable_progress_bar=false",
]


def composed(*overrides: str) -> DictConfig:
    """The full composed config, `hydra` node included (launcher, sweeper), unresolved."""
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return compose("train", overrides=list(overrides), return_hydra_config=True)


def rows(run_dir) -> list[str]:
    """`metrics.csv` lines without the last column, `seconds`, the one column allowed to differ."""
    lines = (run_dir / "metrics.csv").read_text().splitlines()
    return [line.rsplit(",", 1)[0] for line in lines]


def started(run_dir, args: list[str]) -> subprocess.Popen:
    """`python -m lottery_init.train` with `args` into `run_dir`, its output in `<run_dir>.out`."""
    cmd = [sys.executable, "-m", "lottery_init.train", *args, f"hydra.run.dir={run_dir}"]
    out = open(f"{run_dir}.out", "w")  # noqa: SIM115 (the child process writes to it)
    return subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=out)


def wait_for_rows(process: subprocess.Popen, run_dir, n: int) -> None:
    """Return once `n` lines of `metrics.csv` (the header counts) are on disk."""
    deadline = time.monotonic() + 300
    while not (run_dir / "metrics.csv").exists() or len(rows(run_dir)) < n:
        assert process.poll() is None and time.monotonic() < deadline, "the run ended first"
        time.sleep(0.002)


class TinyData(pl.LightningDataModule):
    """Random inputs with labels from a fixed linear rule: `n` examples, `features` wide."""

    def __init__(self, seeds: list[int], n: int = 120, features: int = 20, chunk: int = 3) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(1234)
        self.x = torch.randn(n, features, generator=gen)
        self.y = (self.x[:, :3].argmax(dim=1)).long()
        self.gens = [generator(s, "data") for s in seeds]
        self.seeds, self.chunk = seeds, chunk

    def train_dataloader(self) -> PopulationBatches:
        return PopulationBatches(self.x, self.y, 10, self.gens, self.chunk)

    def first_images(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Each member's first `n` examples of its first epoch (what pruning at init scores on)."""
        orders = draw_orders(copies(self.gens), len(self.y), pin=False)[:, :n]
        return self.x[orders], self.y[orders]

    def val_dataloader(self) -> TestBatches:
        return TestBatches(self.x, self.y, 1000, len(self.seeds))


def tiny_trainer(epochs: int, callbacks: list[pl.Callback]) -> pl.Trainer:
    """A quiet CPU Trainer for tests."""
    return pl.Trainer(
        accelerator="cpu",
        max_epochs=epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=callbacks,
    )


def image_module(seeds: list[int], data_dir, *overrides: str) -> ImageDataModule:
    """The data module a run of `overrides` builds (MNIST by default), reading `data_dir`."""
    data = {
        k: v for k, v in compose_run(overrides).data.items() if k not in ("_target_", "data_dir")
    }
    return ImageDataModule(seeds, data_dir, **data)
