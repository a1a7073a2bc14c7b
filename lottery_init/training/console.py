"""A run's progress on the console: a bar per epoch on a terminal, else a plain line per epoch."""

import math
import sys
import time
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import TQDMProgressBar
from pytorch_lightning.callbacks.progress.tqdm_progress import Tqdm


class EpochBar(TQDMProgressBar):
    """One bar per epoch (kept), with the epoch's test accuracy and weights remaining; no
    nested validation bar."""

    def __init__(self, remaining: Callable[[], float]) -> None:
        super().__init__(leave=True)
        self.remaining = remaining

    def init_validation_tqdm(self) -> Tqdm:
        return Tqdm(disable=True)

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics | {"remaining": f"{self.remaining():.1%}"}


class EpochLines(pl.Callback):
    """One plain line per epoch, for pipes, CI logs and Slurm output files."""

    def __init__(self, remaining: Callable[[], float]) -> None:
        self.remaining, self._start = remaining, time.perf_counter()

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        acc = float(trainer.callback_metrics.get("test/acc", math.nan))
        print(
            f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}: test/acc {acc:.2%}, "
            f"remaining {self.remaining():.1%}, {time.perf_counter() - self._start:.1f} s",
            flush=True,
        )


def progress(remaining: Callable[[], float]) -> pl.Callback:
    """A bar per epoch on a terminal, else a plain line per epoch."""
    return EpochBar(remaining) if sys.stdout.isatty() else EpochLines(remaining)
