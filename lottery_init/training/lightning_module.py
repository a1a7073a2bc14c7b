"""`LotteryModule`: trains a stacked population with per-member losses and metrics."""

import pytorch_lightning as pl
import torch
from torch import nn
from torch.nn import functional as F

from lottery_init.data.batches import Batch


class LotteryModule(pl.LightningModule):
    """Sum of the members' mean cross-entropies as the loss (Adam is elementwise, so each member
    trains as if alone); loss and accuracy accumulate on the device and leave it once per epoch.

    A Lightning step receives a chunk of mini-batches and takes one optimizer step for each:
    Lightning's per-step bookkeeping costs about as much as a LeNet step on a CPU, so paying it
    once per chunk keeps the Trainer as fast as a plain loop. The maths are unchanged.
    """

    def __init__(self, model: nn.Module, lr: float = 0.0012) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.model, self.lr = model, lr
        population = model.population
        # Summed loss and correct predictions per member; example counts are host integers.
        self.register_buffer("_train", torch.zeros(2, population), persistent=False)
        self.register_buffer("_test", torch.zeros(2, population), persistent=False)
        self.register_buffer("_val", torch.zeros(2, population), persistent=False)
        self._seen = {"train": 0, "test": 0, "val": 0}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _loss(self, batch: Batch, sums: torch.Tensor) -> torch.Tensor:
        """Sum of the members' mean losses; adds per-member summed loss and hits to `sums`."""
        x, y = batch
        logits = self.model(x)
        losses = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view_as(y)
        with torch.no_grad():
            hits = (logits.argmax(dim=2) == y).sum(dim=1)
            sums.add_(torch.stack([losses.sum(dim=1), hits]))
        # Dividing the total by B gives each member the gradient of its own mean loss.
        return losses.sum() / y.shape[1]

    def training_step(self, chunk: list[Batch], chunk_idx: int) -> None:
        """One Adam step per mini-batch of the chunk; optimizer hooks still run after each."""
        optimizer = self.optimizers().optimizer
        for batch in chunk:
            loss = self._loss(batch, self._train)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            self._seen["train"] += batch[1].shape[1]

    def validation_step(self, batch: Batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        """Dataloader 0 is the test set, 1 the validation split (when the data holds one out)."""
        stage = "test" if dataloader_idx == 0 else "val"
        self._loss(batch, self._test if stage == "test" else self._val)
        self._seen[stage] += batch[1].shape[1]

    def on_train_epoch_start(self) -> None:
        self._train.zero_()
        self._seen["train"] = 0

    def on_validation_epoch_start(self) -> None:
        self._test.zero_()
        self._val.zero_()
        self._seen["test"] = self._seen["val"] = 0

    def on_validation_epoch_end(self) -> None:
        # One scalar per epoch for the progress bar; per-member numbers go to the run files.
        self.log("test/acc", self._test[1].mean() / max(self._seen["test"], 1), prog_bar=True)

    def epoch_metrics(self) -> dict[str, torch.Tensor]:
        """This epoch's per-member `train/loss`, `train/acc`, `test/loss`, `test/acc` (and `val/...`
        when a validation split was evaluated), on the CPU."""
        stages = ["train", "test"] + (["val"] if self._seen["val"] else [])
        sums = torch.stack([getattr(self, f"_{stage}") for stage in stages]).cpu()
        counts = torch.tensor([self._seen[stage] for stage in stages]).clamp(min=1)
        means = sums / counts.view(-1, 1, 1)
        names = [f"{stage}/{metric}" for stage in stages for metric in ("loss", "acc")]
        return dict(zip(names, means.flatten(0, 1), strict=True))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Adam with default betas; the fused kernel where this torch has one for the device."""
        return torch.optim.Adam(self.parameters(), lr=self.lr, fused=True)
