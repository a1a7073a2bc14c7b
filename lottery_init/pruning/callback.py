"""Iterative pruning with rewinding (Frankle & Carbin 2019): the callback that schedules it."""

from collections.abc import Callable, Sequence
from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn

from lottery_init.pruning.masking import MaskedTraining
from lottery_init.pruning.masks import prunable, prune_masks
from lottery_init.pruning.scores import prune_scores
from lottery_init.seeding import generator

REWINDS = ("init", "epoch_k", "reinit")


class IterativeMagnitudePruning(MaskedTraining):
    """Every `every_n_epochs` epochs: prune, rewind all parameters, restart the optimizer; in
    between, keep pruned weights at exactly zero.

    `method` scores the weights (`magnitude`, `random`, `magnitude_increase`, see
    `scores.prune_scores`); `layer_rates` overrides `rate` per layer. `rewind`: `init` rewinds to
    θ₀ (Frankle & Carbin 2019); `epoch_k` to the weights after `rewind_epoch` epochs of the first
    round (Frankle et al. 2019, "Stabilizing the lottery ticket hypothesis"); `reinit` draws the
    survivors afresh from the init method through `reinit(round)` (the random
    reinitialization control). `seeds` seed the random method's per-member, per-round draws.
    `target_remaining` is where the schedule ends, kept for the record: the Trainer's epochs,
    which `config` derives from it (`schedule.epochs_to_target`), end the run there."""

    def __init__(
        self,
        rate: float,
        every_n_epochs: int,
        scope: str = "layer",
        method: str = "magnitude",
        rewind: str = "init",
        rewind_epoch: int = 0,
        layer_rates: Sequence[float] | None = None,
        target_remaining: float | None = None,
        seeds: Sequence[int] = (),
        reinit: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(every_n_epochs)
        self.rate, self.scope = rate, scope
        self.method, self.rewind, self.rewind_epoch = method, rewind, rewind_epoch
        self.layer_rates, self.seeds, self.reinit = layer_rates, list(seeds), reinit
        self.target_remaining = target_remaining
        self.theta_k: list[torch.Tensor] = []

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Move θ₀, the late-rewind weights and the masks to the device; mask every step."""
        self.theta_k = [t.to(pl_module.device) for t in self.theta_k]
        super().on_fit_start(trainer, pl_module)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Start a new round when the epoch says so: prune, rewind, fresh optimizer state."""
        due = trainer.current_epoch // self.every_n_epochs
        while self.round < due:
            self.prune_and_rewind(pl_module, trainer.optimizers)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """For late rewinding, keep the weights after `rewind_epoch` epochs of the first round."""
        first_round = self.rewind == "epoch_k" and self.round == 0
        if first_round and trainer.current_epoch + 1 == self.rewind_epoch:
            self.theta_k = [p.detach().clone() for p in pl_module.parameters()]

    @torch.no_grad()
    def prune_and_rewind(self, module: nn.Module, optimizers: list[torch.optim.Optimizer]) -> None:
        """End the current round: prune, rewind every parameter, clear the optimizers."""
        weights, initial = prunable(module), self.initial_weights(module)
        gens = [generator(seed, f"prune/{self.round}") for seed in self.seeds]
        scores = prune_scores(self.method, weights, initial, gens)
        rates = list(self.layer_rates or [self.rate] * len(weights))
        self._use_masks(prune_masks(scores, self.masks, rates, self.scope), weights)
        self.round += 1
        if self.rewind == "reinit":
            self.reinit(self.round)
        else:
            target = self.theta_k if self.rewind == "epoch_k" and self.theta_k else self.theta0
            for param, start in zip(module.parameters(), target, strict=True):
                param.copy_(start)
        self._apply_masks()
        for optimizer in optimizers:
            optimizer.state.clear()

    def state_dict(self) -> dict[str, Any]:
        """Round, masks as packed bits and the late-rewind weights, for Lightning checkpoints
        (θ₀ is not stored: `setup` regenerates it)."""
        return super().state_dict() | {"theta_k": self.theta_k}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore round, masks and late-rewind weights from a checkpoint."""
        super().load_state_dict(state_dict)
        self.theta_k = state_dict["theta_k"]
