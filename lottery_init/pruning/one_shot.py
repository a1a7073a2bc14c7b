"""Pruning at initialization: one mask, scored on θ₀ before any training, held for the run."""

from collections.abc import Callable, Sequence
from typing import Any

import pytorch_lightning as pl
import torch

from lottery_init.pruning.at_init_methods import masks_at_init, method_at_init
from lottery_init.pruning.masking import MaskedTraining
from lottery_init.pruning.masks import shuffle_within_layers
from lottery_init.seeding import generator


class PruningAtInit(MaskedTraining):
    """Before the first step, keep `remaining` of each member's weights as `method` scores them
    on its own θ₀ (`at_init_methods.masks_at_init`; SNIP and GraSP on the member's first `images`
    training images in its own order, or with `images_per_class` on its first that many of each
    class), then train one round of every epoch with that mask.

    Controls: `shuffle` moves each layer's kept entries to random places (same per-layer
    counts, Frankle et al. 2021); `rewind=reinit` trains the mask from a fresh draw of the init
    method through `reinit(1)` instead of θ₀. `seeds` seed the shuffles, one per member."""

    def __init__(
        self,
        remaining: float,
        every_n_epochs: int,
        method: str = "magnitude_at_init",
        scope: str = "global",
        rewind: str = "init",
        shuffle: bool = False,
        images: int | None = None,
        images_per_class: int | None = None,
        temperature: float | None = None,
        iterations: int | None = None,
        seeds: Sequence[int] = (),
        reinit: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(every_n_epochs)
        self.remaining, self.method, self.scope = remaining, method, scope
        self.rewind, self.shuffle, self.images = rewind, shuffle, images
        self.images_per_class = images_per_class
        self.temperature, self.iterations = temperature, iterations
        self.seeds, self.reinit = list(seeds), reinit
        self.pruned = False

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Prune on the training device and start from the masked θ₀ (for the reinit control, a
        fresh draw), unless a restored checkpoint holds the mask and weights already."""
        if not self.pruned:
            self.masks = self.score(pl_module.model, trainer.datamodule)
            if self.rewind == "reinit":
                self.reinit(1)
            self.pruned = True
        super().on_fit_start(trainer, pl_module)
        self._apply_masks()

    def score(self, model: torch.nn.Module, datamodule: Any) -> list[torch.Tensor]:
        """Each member's mask from its θ₀ (and its first images), shuffled for the control."""
        # SynFlow's all-ones input takes the shape of one image.
        if not method_at_init(self.method).needs_images:
            batch = datamodule.first_images(1)
        elif self.images_per_class is not None:
            batch = datamodule.first_images_per_class(self.images_per_class)
        else:
            batch = datamodule.first_images(self.images)
        masks = masks_at_init(
            self.method,
            model,
            self.remaining,
            self.scope,
            batch=batch,
            temperature=1.0 if self.temperature is None else self.temperature,
            iterations=1 if self.iterations is None else self.iterations,
            input_shape=batch[0].shape[2:],
        )
        if self.shuffle:
            gens = [generator(seed, "prune/shuffle") for seed in self.seeds]
            masks = shuffle_within_layers(masks, gens)
        return masks

    def state_dict(self) -> dict[str, Any]:
        """The mask and that it was scored, for Lightning checkpoints."""
        return super().state_dict() | {"pruned": self.pruned}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the mask, and that it was scored, so a resumed run never scores again."""
        super().load_state_dict(state_dict)
        self.pruned = state_dict["pruned"]
