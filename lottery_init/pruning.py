"""Iterative magnitude pruning with rewinding (Frankle & Carbin 2019), for a stacked population."""

from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn

SCOPES = ("layer", "global")


def prune_smallest(scores: torch.Tensor, mask: torch.Tensor, rate: float) -> torch.Tensor:
    """New mask `[P, N]`: per member, drop the round(rate × survivors) lowest-scoring survivors."""
    survivors = mask.sum(dim=1, dtype=torch.float64)
    n_prune = torch.round(rate * survivors).long()
    # Pruned entries rank first, so the cut sits after them and the newly pruned ones.
    cut = (mask.shape[1] - survivors.long()) + n_prune
    ranked = torch.where(mask, scores, torch.full_like(scores, -torch.inf))
    order = torch.argsort(ranked, dim=1, stable=True)
    keep = torch.arange(mask.shape[1], device=mask.device).expand_as(mask) >= cut.unsqueeze(1)
    return torch.empty_like(mask).scatter_(1, order, keep)


def magnitude_masks(
    weights: list[torch.Tensor], masks: list[torch.Tensor], rate: float, scope: str = "layer"
) -> list[torch.Tensor]:
    """Prune `rate` of each member's surviving weights by magnitude, per layer or across layers."""
    if scope not in SCOPES:
        raise ValueError(f"prune.scope must be one of {SCOPES}, got {scope!r}.")
    flat_w = [w.detach().abs().flatten(1) for w in weights]
    flat_m = [m.flatten(1) for m in masks]
    if scope == "layer":
        new = [prune_smallest(w, m, rate) for w, m in zip(flat_w, flat_m, strict=True)]
    else:
        joint = prune_smallest(torch.cat(flat_w, dim=1), torch.cat(flat_m, dim=1), rate)
        new = list(joint.split([w.shape[1] for w in flat_w], dim=1))
    return [n.view_as(m) for n, m in zip(new, masks, strict=True)]


def remaining(masks: list[torch.Tensor]) -> torch.Tensor:
    """Fraction of weights still unpruned, per member `[P]`."""
    kept = sum(m.flatten(1).sum(dim=1, dtype=torch.float64) for m in masks)
    return kept / sum(m[0].numel() for m in masks)


def layer_remaining(masks: list[torch.Tensor]) -> torch.Tensor:
    """Fraction of weights still unpruned per member and layer `[P, L]`."""
    return torch.stack([m.flatten(1).double().mean(dim=1) for m in masks], dim=1)


def prunable(module: nn.Module) -> list[nn.Parameter]:
    """The weight matrices of a stacked model (biases are never pruned)."""
    return [p for name, p in module.named_parameters() if name.endswith("weight")]


class IterativeMagnitudePruning(pl.Callback):
    """Every `every_n_epochs` epochs: prune `rate` of the weights, rewind all parameters to θ₀,
    and restart the optimizer; in between, keep pruned weights at exactly zero."""

    def __init__(self, rate: float, every_n_epochs: int, scope: str = "layer") -> None:
        self.rate, self.every_n_epochs, self.scope = rate, every_n_epochs, scope
        self.round = 0
        self.theta0: list[torch.Tensor] = []
        self.masks: list[torch.Tensor] = []
        self._hooks: list[Any] = []

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Save θ₀ and full masks, unless a checkpoint already restored them."""
        if not self.theta0:
            self.theta0 = [p.detach().clone() for p in pl_module.parameters()]
            self.masks = [torch.ones_like(w, dtype=torch.bool) for w in prunable(pl_module)]
        self.theta0 = [t.to(pl_module.device) for t in self.theta0]
        self._use_masks([m.to(pl_module.device) for m in self.masks], prunable(pl_module))
        # An optimizer hook masks after every step, however the training loop takes its steps.
        self._hooks = [opt.register_step_post_hook(self._apply_masks) for opt in trainer.optimizers]

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Start a new round when the epoch says so: prune, rewind, fresh optimizer state."""
        due = trainer.current_epoch // self.every_n_epochs
        while self.round < due:
            self.prune_and_rewind(pl_module, trainer.optimizers)

    @torch.no_grad()
    def prune_and_rewind(self, module: nn.Module, optimizers: list[torch.optim.Optimizer]) -> None:
        """End the current round: prune, rewind every parameter to θ₀, clear the optimizers."""
        weights = prunable(module)
        self._use_masks(magnitude_masks(weights, self.masks, self.rate, self.scope), weights)
        for param, start in zip(module.parameters(), self.theta0, strict=True):
            param.copy_(start)
        self._apply_masks()
        for optimizer in optimizers:
            optimizer.state.clear()
        self.round += 1

    def _use_masks(self, masks: list[torch.Tensor], weights: list[nn.Parameter]) -> None:
        """Adopt `masks` for `weights`, with float copies so one fused multiply applies them all."""
        self.masks, self._weights = masks, weights
        self._float_masks = [m.to(w.dtype) for m, w in zip(masks, weights, strict=True)]

    @torch.no_grad()
    def _apply_masks(self, *_: Any) -> None:
        """Zero the pruned weights, one fused in-place multiply (run after each optimizer step)."""
        torch._foreach_mul_(self._weights, self._float_masks)

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Detach the optimizer hooks, after a finished or a failed fit alike."""
        for hook in self._hooks:
            hook.remove()
        self._hooks = []

    def state_dict(self) -> dict[str, Any]:
        """θ₀, masks and round, for Lightning checkpoints."""
        return {"round": self.round, "theta0": self.theta0, "masks": self.masks}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore θ₀, masks and round from a checkpoint."""
        self.round = state_dict["round"]
        self.theta0, self.masks = state_dict["theta0"], state_dict["masks"]
