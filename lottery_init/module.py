"""`LotteryModule`: trains a stacked population with per-member losses and metrics."""

import pytorch_lightning as pl
import torch
from torch import nn
from torch.nn import functional as F

# Columns of the on-device accumulators: summed loss, correct predictions, examples seen.
LOSS, CORRECT, COUNT = range(3)


class LotteryModule(pl.LightningModule):
    """Sum of the members' mean cross-entropies as the loss (Adam is elementwise, so each member
    trains as if alone); loss and accuracy accumulate on the device and leave it once per epoch."""

    def __init__(self, model: nn.Module, lr: float = 0.0012) -> None:
        super().__init__()
        self.model, self.lr = model, lr
        population = model.population
        self.register_buffer("_train", torch.zeros(population, 3), persistent=False)
        self.register_buffer("_test", torch.zeros(population, 3), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], sums: torch.Tensor) -> torch.Tensor:
        """Per-member mean losses `[P]`, adding loss, hits and count to `sums` without syncing."""
        x, y = batch
        logits = self.model(x)
        losses = F.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(dim=1)
        with torch.no_grad():
            hits = (logits.argmax(dim=2) == y).sum(dim=1)
            count = torch.full_like(losses, y.shape[1])
            sums.add_(torch.stack([losses.detach() * y.shape[1], hits.to(losses.dtype), count], 1))
        return losses

    def training_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        return self._step(batch, self._train).sum()

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, self._test)

    def on_train_epoch_start(self) -> None:
        self._train.zero_()

    def on_validation_epoch_start(self) -> None:
        self._test.zero_()

    def on_validation_epoch_end(self) -> None:
        # One scalar per epoch for the progress bar; per-member numbers go to the run files.
        acc = self._test[:, CORRECT] / self._test[:, COUNT].clamp(min=1)
        self.log("test/acc", acc.mean(), prog_bar=True)

    def epoch_metrics(self) -> dict[str, torch.Tensor]:
        """This epoch's per-member `train/loss`, `train/acc`, `test/loss`, `test/acc` on the CPU."""
        sums = torch.stack([self._train, self._test]).cpu()
        means = sums[..., [LOSS, CORRECT]] / sums[..., COUNT:].clamp(min=1)
        names = ("train/loss", "train/acc", "test/loss", "test/acc")
        return dict(zip(names, means.transpose(1, 2).reshape(4, -1), strict=True))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Adam with default betas; the fused kernel where this torch has one for the device."""
        return torch.optim.Adam(self.parameters(), lr=self.lr, fused=True)
