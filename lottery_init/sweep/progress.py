"""A sweep's progress: one log line per epoch of each population, with the whole sweep's clock."""

import logging
import math
import time
from typing import Any

import pytorch_lightning as pl

log = logging.getLogger(__name__)


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
