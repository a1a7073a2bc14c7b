"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

import io
import os
import tempfile
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.plugins import TorchCheckpointIO

# The file name of the checkpoint a run or population resumes from.
LAST = "last.ckpt"


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, then rename it."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(f.name, 0o644)
    os.replace(f.name, path)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoints written atomically, so a killed process never leaves half of one."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any = None
    ) -> None:
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(Path(path), buffer.getvalue())


class EpochCheckpoint(pl.Callback):
    """Saves `last.ckpt` at the end of every training epoch, after the epoch's rows are written.

    Lightning's `ModelCheckpoint` saves only when the global step moved, and steps taken on the
    raw optimizer (see `LotteryModule.training_step`) do not move it."""

    def __init__(self, dirpath: Path) -> None:
        self.path = Path(dirpath) / LAST

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        trainer.save_checkpoint(self.path)
