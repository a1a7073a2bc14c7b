"""`RunRecorder`: the callback that writes each member's epochs and rounds into its run files."""

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch

from lottery_init.pruning import MaskedTraining
from lottery_init.pruning.masks import layer_remaining, prunable, remaining
from lottery_init.runs import board
from lottery_init.runs.results import RunWriter

# A round's per-layer remaining fractions `[P][L]`, masks and weights `[P, out, in]` per layer.
RoundData = tuple[list[list[float]], list[np.ndarray], list[np.ndarray]]


def on_host(tensors: Sequence[torch.Tensor]) -> list[np.ndarray]:
    """`tensors` as numpy arrays on the host, each moved once for the whole population (on a
    CPU, a view of the same memory).

    A round's host work (survivors, histograms, packed masks) is done in numpy: on a CPU,
    torch's boolean indexing of a layer takes several times numpy's, and torch's thread pool
    contends for the cores with the BLAS threads of the histograms' numpy maths."""
    return [t.detach().cpu().numpy() for t in tensors]


class RunRecorder(pl.Callback):
    """Writes each member's epoch rows and round table; marks runs done or failed.

    `host_seconds` adds up the time spent after each row's timing point, by kind: `files` (rows,
    round tables, masks) and `histograms` (TensorBoard's, θ₀'s included), for benchmarks."""

    def __init__(
        self,
        writers: list[RunWriter],
        pruning: MaskedTraining,
        data_record: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.writers, self.pruning, self.data_record = writers, pruning, data_record
        self.host_seconds = {"files": 0.0, "histograms": 0.0}
        self._start = time.perf_counter()

    @contextmanager
    def _timing(self, kind: str) -> Iterator[None]:
        """Add the time the block takes to `host_seconds[kind]`."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.host_seconds[kind] += time.perf_counter() - start

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Record in each `run.json` the dataset and the files read (the data is set up by now)."""
        if self.data_record is not None:
            record = self.data_record()
            for writer in self.writers:
                writer.update(data=record)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Histograms of each member's θ₀ per layer, once, at the start of a fresh run."""
        if trainer.current_epoch == 0:
            with self._timing("histograms"):
                # θ₀ as built: pruning at initialization has masked the weights by now.
                weights = on_host(self.pruning.initial_weights(pl_module))
                for p, writer in enumerate(self.writers):
                    board.log_weights(writer.tb, "theta0", [w[p] for w in weights], 0)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Write the epoch that just ended (training and test metrics) to every member's files."""
        epoch = trainer.current_epoch
        metrics = pl_module.epoch_metrics()
        kept = remaining(self.pruning.masks).cpu().tolist()
        seconds = time.perf_counter() - self._start
        round_ends = (epoch + 1) % self.pruning.every_n_epochs == 0
        ended = self._round_data(pl_module) if round_ends else None
        for p, writer in enumerate(self.writers):
            if writer.closed:
                continue
            row = {"epoch": epoch, "round": self.pruning.round, "remaining": kept[p]}
            row |= {name.replace("/", "_"): values[p].item() for name, values in metrics.items()}
            with self._timing("files"):
                writer.epoch(row | {"seconds": seconds})
            if not all(math.isfinite(row[k]) for k in ("train_loss", "test_loss")):
                # The member diverged; its stacked neighbours train on undisturbed.
                losses = f"train {row['train_loss']}, test {row['test_loss']}"
                writer.close("failed", f"loss is not finite in epoch {epoch} ({losses})", epoch)
            elif ended is not None:
                self._end_round(writer, p, row, ended)
        trainer.should_stop = trainer.should_stop or all(w.closed for w in self.writers)

    def _round_data(self, pl_module: pl.LightningModule) -> RoundData:
        """The round's per-layer remaining, masks and weights, moved to the host once for every
        member's files."""
        with self._timing("files"):
            per_layer = layer_remaining(self.pruning.masks).cpu().tolist()
            masks = on_host(self.pruning.masks)
        with self._timing("histograms"):
            weights = on_host(prunable(pl_module))
        return per_layer, masks, weights

    def _end_round(
        self, writer: RunWriter, p: int, row: dict[str, float], ended: RoundData
    ) -> None:
        """Member `p`'s round: its round-table entry and masks, and histograms of its survivors."""
        per_layer, masks, weights = ended
        entry = {k: row[k] for k in ("epoch", "round", "remaining", "test_acc")}
        with self._timing("files"):
            writer.end_round(entry | {"layer_remaining": per_layer[p]}, [m[p] for m in masks])
        with self._timing("histograms"):
            survivors = [w[p][m[p]] for w, m in zip(weights, masks, strict=True)]
            board.log_weights(writer.tb, "survivors", survivors, int(row["round"]))

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Mark the runs done, unless the fit stopped early (a signal) and will be resumed."""
        if trainer.current_epoch < trainer.max_epochs:
            return
        for writer in self.writers:
            if not writer.closed:
                writer.close("done")

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        for writer in self.writers:
            if not writer.closed:
                writer.close("failed", reason=f"{type(exception).__name__}: {exception}")
