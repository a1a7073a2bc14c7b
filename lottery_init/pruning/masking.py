"""`MaskedTraining`: the callback part every pruning schedule shares: the masks held at zero
after every optimizer step, θ₀ kept, and the masks in checkpoints."""

from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn

from lottery_init.pruning.masks import pack_mask, prunable, remaining, unpack_mask


class MaskedTraining(pl.Callback):
    """Holds one boolean mask per prunable layer `[P, *shape]` and zeroes the pruned weights
    after each optimizer step; `round` and `every_n_epochs` say which round an epoch trains (a
    schedule of one round has `every_n_epochs` = epochs). Schedules subclass it and choose
    when and how masks change."""

    def __init__(self, every_n_epochs: int) -> None:
        self.every_n_epochs = every_n_epochs
        self.round = 0
        self.theta0: list[torch.Tensor] = []
        self.masks: list[torch.Tensor] = []
        self.kept = 1.0  # the population's mean fraction of weights remaining, for the console
        self._hooks: list[Any] = []

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Keep θ₀ and start with full masks, before Lightning restores any checkpoint.

        θ₀ is the model as built, a function of each member's init method and seed, so
        checkpoints never store it; a restored checkpoint replaces the masks and round."""
        self.theta0 = [p.detach().clone() for p in pl_module.parameters()]
        self.masks = [torch.ones_like(w, dtype=torch.bool) for w in prunable(pl_module)]

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Move θ₀ and the masks to the training device and start masking every step."""
        self.theta0 = [t.to(pl_module.device) for t in self.theta0]
        self._use_masks([m.to(pl_module.device) for m in self.masks], prunable(pl_module))
        # An optimizer hook masks after every step, however the training loop takes its steps.
        self._hooks = [opt.register_step_post_hook(self._apply_masks) for opt in trainer.optimizers]

    def initial_weights(self, module: nn.Module) -> list[torch.Tensor]:
        """θ₀ of each prunable weight of `module` (θ₀ holds every parameter in `parameters()`
        order; the weights' own by identity)."""
        index = {id(p): i for i, p in enumerate(module.parameters())}
        return [self.theta0[index[id(w)]] for w in prunable(module)]

    def _use_masks(self, masks: list[torch.Tensor], weights: list[nn.Parameter]) -> None:
        """Adopt `masks` for `weights`, with float copies so one fused multiply applies them all."""
        self.masks, self._weights = masks, weights
        # Once per round, not per step: reading it off the device waits for the GPU.
        self.kept = float(remaining(masks).mean())
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
        """Round and masks as packed bits, for Lightning checkpoints (θ₀ is not stored: `setup`
        regenerates it)."""
        return {
            "round": self.round,
            "masks": [pack_mask(m) for m in self.masks],
            "mask_shapes": [list(m.shape) for m in self.masks],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore round and masks from a checkpoint."""
        self.round, shapes = state_dict["round"], state_dict["mask_shapes"]
        self.masks = [unpack_mask(m, s) for m, s in zip(state_dict["masks"], shapes, strict=True)]
