"""Checkpoints: written atomically on a cadence or when Slurm asks; loaded without running code."""

import io
import logging
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.plugins import TorchCheckpointIO
from pytorch_lightning.plugins.environments import (
    ClusterEnvironment,
    LightningEnvironment,
    SLURMEnvironment,
)

from lottery_init.files import atomic_write
from lottery_init.runs.compat import RENAMED
from lottery_init.runs.layout import LAST

log = logging.getLogger(__name__)

# What Slurm sends before preemption or the time limit: SIGTERM, and the signal of `--signal`
# (SIGUSR1 by custom, SIGUSR2 in the jobs submitit writes).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)


class Interrupted(SystemExit):
    """A fit stopped by a signal after checkpointing; exits with 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


def cluster_environment() -> ClusterEnvironment:
    """Lightning's Slurm environment inside a Slurm job step, without its own requeueing, and its
    plain one elsewhere: `CheckpointCadence` owns the stop signals, and submitit requeues."""
    # Lightning would otherwise install an auto-requeue on SIGUSR1, a second requeue path beside
    # submitit's, in any Slurm job step it detects.
    if SLURMEnvironment.detect():
        return SLURMEnvironment(auto_requeue=False)
    return LightningEnvironment()


def load(path: Path, mmap: bool = False) -> dict[str, Any]:
    """A checkpoint's content on the CPU, unpickling only tensors and plain values."""
    return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoints written atomically (a killed process never leaves half of one) and
    loaded with `weights_only=True` (a planted file cannot run code)."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any = None
    ) -> None:
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(Path(path), buffer.getvalue())

    def load_checkpoint(
        self, path: str | Path, map_location: Any = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        checkpoint = load(Path(path))
        # Lightning keys the datamodule's state (the members' data orders) by its class name;
        # checkpoints written before the data contract hold it under the old name.
        for old, new in RENAMED.items():
            if old in checkpoint:
                checkpoint.setdefault(new, checkpoint.pop(old))
        return checkpoint


class CheckpointCadence(pl.Callback):
    """Saves `last.ckpt` at the end of an epoch (after the epoch's rows are written) once
    `every_seconds` have passed since the last one, at the end of the fit, and when one of
    `STOP_SIGNALS` arrived during the epoch; after the last, the fit stops and `stopped_by` names
    the signal.

    Lightning's `ModelCheckpoint` saves only when the global step moved, and steps taken on the
    raw optimizer (see `LotteryModule.training_step`) do not move it."""

    def __init__(self, dirpath: Path, every_seconds: float = 0.0) -> None:
        self.path, self.every_seconds = Path(dirpath) / LAST, every_seconds
        self.stopped_by: int | None = None
        self.writes, self.seconds = 0, 0.0
        self._signal: int | None = None
        self._last = time.monotonic()
        self._previous: dict[int, Any] = {}

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Note the stop signals' handlers from before the fit, to give them back after it."""
        # Lightning installs its own later (its SIGTERM handler refers to the Trainer) and puts
        # these back before `teardown`: giving back its handlers instead would keep the whole
        # Trainer, model and data alive, and SIGTERM ignored, after the fit.
        self._previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Start the clock; take over the stop signals (Lightning's own handlers, installed just
        before, would stop mid-epoch and lose the epoch)."""
        self._last = time.monotonic()
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.warning(f"Received {signal.Signals(signum).name}: stopping after this epoch.")
        self._signal = signum

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        last_epoch = trainer.current_epoch + 1 >= trainer.max_epochs or trainer.should_stop
        due = time.monotonic() - self._last >= self.every_seconds
        if self._signal is None and not (due or last_epoch):
            return
        start = time.perf_counter()
        trainer.save_checkpoint(self.path, weights_only=False)
        self.seconds += time.perf_counter() - start
        self.writes += 1
        self._last = time.monotonic()
        if self._signal is not None and not last_epoch:
            log.warning(f"Checkpoint written to {self.path}; run the same command to resume.")
            self.stopped_by, trainer.should_stop = self._signal, True

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Give the stop signals back to whoever held them before the fit."""
        if threading.current_thread() is threading.main_thread():
            for signum, handler in self._previous.items():
                # None: a handler not installed from Python, which Python cannot put back.
                if handler is not None:
                    signal.signal(signum, handler)
        self._previous = {}
