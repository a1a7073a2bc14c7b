"""`RunRecorder`: the callback that writes each member's epochs and rounds into its run files."""

import math
import time

import pytorch_lightning as pl

from lottery_init import board
from lottery_init.masks import layer_remaining, prunable, remaining
from lottery_init.pruning import IterativeMagnitudePruning
from lottery_init.results import RunWriter


class RunRecorder(pl.Callback):
    """Writes each member's epoch rows and round table; marks runs done or failed."""

    def __init__(self, writers: list[RunWriter], pruning: IterativeMagnitudePruning) -> None:
        self.writers, self.pruning = writers, pruning
        self._start = time.perf_counter()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Histograms of each member's θ₀ per layer, once, at the start of a fresh run."""
        if trainer.current_epoch == 0:
            weights = [w.detach().cpu() for w in prunable(pl_module)]
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
        per_layer = layer_remaining(self.pruning.masks).cpu().tolist() if round_ends else None
        # The round's masks and weights, moved to the CPU once for every member's files.
        masks = [m.cpu() for m in self.pruning.masks] if round_ends else []
        weights = [w.detach().cpu() for w in prunable(pl_module)] if round_ends else []
        for p, writer in enumerate(self.writers):
            if writer.closed:
                continue
            row = {"epoch": epoch, "round": self.pruning.round, "remaining": kept[p]}
            row |= {name.replace("/", "_"): values[p].item() for name, values in metrics.items()}
            writer.epoch(row | {"seconds": seconds})
            if not all(math.isfinite(row[k]) for k in ("train_loss", "test_loss")):
                # The member diverged; its stacked neighbours train on undisturbed.
                losses = f"train {row['train_loss']}, test {row['test_loss']}"
                writer.close("failed", f"loss is not finite in epoch {epoch} ({losses})", epoch)
            elif round_ends:
                entry = {k: row[k] for k in ("epoch", "round", "remaining", "test_acc")}
                entry |= {"layer_remaining": per_layer[p]}
                writer.end_round(entry, [m[p] for m in masks])
                survivors = [w[p][m[p]] for w, m in zip(weights, masks, strict=True)]
                board.log_weights(writer.tb, "survivors", survivors, int(row["round"]))
        trainer.should_stop = trainer.should_stop or all(w.closed for w in self.writers)

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
