"""The console: our progress and results, not what our dependencies print unasked."""

import logging
import math
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import TQDMProgressBar
from pytorch_lightning.callbacks.progress.tqdm_progress import Tqdm

log = logging.getLogger(__name__)
# Loggers through which Lightning announces devices, tips and why a fit stopped.
CHATTY = ("pytorch_lightning", "lightning_fabric", "lightning.pytorch", "lightning.fabric")


def quiet_dependencies() -> None:
    """Hide Lightning's info lines (device banners, advertising tips, "fit stopped") and the
    deprecation warning Lightning 2.6 triggers in torch's pytree; warnings and errors stay."""
    warnings.filterwarnings(
        "ignore",
        message=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
        category=FutureWarning,
    )
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)


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


class SweepClock:
    """Where the whole sweep is: populations finished (a counter shared by the worker
    processes), how many there are, and how many train at once."""

    def __init__(self, total: int, parallel: int, finished: Any) -> None:
        self.total, self.parallel, self.finished = total, parallel, finished

    def one_done(self) -> None:
        with self.finished.get_lock():
            self.finished.value += 1

    def line(self, left: float, whole: float) -> str:
        """The sweep's progress, when the population under way has `left` of its `whole`
        seconds to go and the populations not yet started each take as long."""
        done = self.finished.value
        waiting = max(0, self.total - done - self.parallel)
        minutes = (left + waiting * whole / self.parallel) / 60
        return f"sweep: {done}/{self.total} populations done, about {minutes:.1f} min left"


class PopulationProgress(pl.Callback):
    """One log line per epoch: which population, how far it and the sweep are, its mean test
    accuracy."""

    def __init__(self, label: str, clock: SweepClock | None = None) -> None:
        self.label, self.clock = label, clock

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # A resumed population starts at its checkpoint's epoch; its rate counts from there.
        self._start, self._first = time.perf_counter(), trainer.current_epoch

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        done, total = trainer.current_epoch + 1, trainer.max_epochs
        per_epoch = (time.perf_counter() - self._start) / (done - self._first)
        acc = float(trainer.callback_metrics.get("test/acc", math.nan))
        left = per_epoch * (total - done)
        line = (
            f"{self.label}: epoch {done}/{total}, mean test/acc {acc:.2%}, "
            f"{per_epoch:.1f} s/epoch, {left / 60:.1f} min left"
        )
        if self.clock is not None:
            line += f"; {self.clock.line(left, per_epoch * total)}"
        log.info(line)
