"""Seconds per epoch of the project's Trainer path against a plain PyTorch loop, same process.

The plain loop does the Trainer path's maths: the project's model (the stacked LeNet-300-100
at P = 1, initialized as a run is), fed the run's data order, with fused Adam (lr 0.0012,
batch 60); it re-applies the pruning masks after each step, accumulates loss and accuracy on
the device and evaluates the test set after the epoch, so both sides reach the same training
loss (printed). A plain loop over `nn.Linear` layers is timed too, for reference: it shows
what the stacked model's batched products cost at P = 1, apart from the Trainer. Each is
timed on its second epoch, after warm-up, a round end for the Trainer path, whose row is
timed before the round's files and histograms are written (their time is printed apart);
the three alternate `--repeats` times, and the first repeat's times are printed too.
Usage: python benchmarks/epoch_time.py [--repeats N] [--model lenet5]
"""

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torch.nn import functional as F

from lottery_init.config.compose import compose
from lottery_init.config.paths import data_dir
from lottery_init.models.initializers import InitMethod, initialize_member
from lottery_init.pruning.masks import prunable
from lottery_init.runs.results import read_metrics
from lottery_init.seeding import generator
from lottery_init.training.population import train_population
from lottery_init.training.process import prepare_training_process
from lottery_init.training.recorder import RunRecorder

# Two epochs, the second a round end; the rows then hold the second epoch's time.
OVERRIDES = ["epochs=2", "prune.every_n_epochs=2", "trainer=cpu"]
OVERRIDES += ["+trainer.enable_progress_bar=false"]


def mnist_tensors(cfg: DictConfig) -> tuple[torch.Tensor, ...]:
    """Training and test images `[N, 1, 28, 28]` and labels, from the run's data module."""
    data = instantiate(cfg.data, seeds=[cfg.seed], data_dir=data_dir(cfg.data.data_dir))
    data.setup()
    return data.train_x, data.train_y, data.test_x, data.test_y


def linear_epochs(epochs: int = 2) -> float:
    """Seconds of the last of `epochs` epochs of a plain loop over `nn.Linear` layers."""
    x, y, test_x, test_y = (t.flatten(1) for t in mnist_tensors(compose(OVERRIDES)))
    slope = 0.05
    model = nn.Sequential(
        nn.Linear(784, 300),
        nn.LeakyReLU(slope),
        nn.Linear(300, 100),
        nn.LeakyReLU(slope),
        nn.Linear(100, 10),
    )
    weights = [m.weight for m in model if isinstance(m, nn.Linear)]
    masks = [torch.ones_like(w) for w in weights]
    optimizer = torch.optim.Adam(model.parameters(), lr=0.0012, fused=True)
    gen = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        start = time.perf_counter()
        sums = torch.zeros(3)
        order = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), 60):
            index = order[i : i + 60]
            logits = model(x[index])
            loss = F.cross_entropy(logits, y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                torch._foreach_mul_(weights, masks)
                hits = (logits.argmax(1) == y[index]).sum()
                sums.add_(torch.stack([loss.detach() * 60, hits.float(), torch.tensor(60.0)]))
        with torch.no_grad():
            test_logits = model(test_x)
            test = (
                F.cross_entropy(test_logits, test_y),
                (test_logits.argmax(1) == test_y).float().mean(),
            )
        _ = (sums.tolist(), [t.item() for t in test])
        seconds = time.perf_counter() - start
    return seconds


def run_model(cfg: DictConfig) -> nn.Module:
    """The model a run of `cfg` trains (a population of one), with its θ₀."""
    model = instantiate(cfg.model, population=1)
    method = InitMethod(**OmegaConf.to_container(cfg.init, resolve=True))
    initialize_member(model, 0, method, cfg.seed)
    return model


def summed_loss(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, sums: torch.Tensor
) -> torch.Tensor:
    """The mean cross-entropy of a batch `[1, B]`; adds its summed loss and hits to `sums`."""
    logits = model(x)
    losses = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view_as(y)
    with torch.no_grad():
        hits = (logits.argmax(dim=2) == y).sum(dim=1)
        sums.add_(torch.stack([losses.sum(dim=1), hits]))
    return losses.sum() / y.shape[1]


def stacked_epochs(epochs: int = 2) -> tuple[float, float]:
    """Seconds and training loss of the last of `epochs` epochs of a plain loop doing the
    Trainer path's maths (the run's model, θ₀, data order and loss)."""
    cfg = compose(OVERRIDES)
    x, y, test_x, test_y = mnist_tensors(cfg)
    test_x, test_y = test_x.unsqueeze(0), test_y.unsqueeze(0)
    model = run_model(cfg)
    weights = prunable(model)
    masks = [torch.ones_like(w) for w in weights]
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=True)
    gen = generator(cfg.seed, "data")
    for _ in range(epochs):
        start = time.perf_counter()
        sums, test_sums = torch.zeros(2, 1), torch.zeros(2, 1)
        order = torch.randperm(len(y), generator=gen).unsqueeze(0)
        for i in range(0, len(y), cfg.batch_size):
            index = order[:, i : i + cfg.batch_size]
            loss = summed_loss(model, x[index], y[index], sums)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                torch._foreach_mul_(weights, masks)
        with torch.no_grad():
            summed_loss(model, test_x, test_y, test_sums)
        means = (sums / len(y)).tolist(), (test_sums / test_y.shape[1]).tolist()
        seconds = time.perf_counter() - start
    return seconds, means[0][0][0]


class AfterRow(pl.Callback):
    """The seconds `RunRecorder` spends on an epoch's files and histograms after its row's
    timing point (this callback's hooks run after the recorder's)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.recorder = next(c for c in trainer.callbacks if isinstance(c, RunRecorder))
        self._before = sum(self.recorder.host_seconds.values())

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.seconds = sum(self.recorder.host_seconds.values()) - self._before


def lightning_epochs() -> tuple[float, float, float]:
    """The last epoch of a run through the Trainer path (`train_population`, as `train` calls
    it): its row's seconds and training loss, and the seconds of its files after the row."""
    after = AfterRow()
    with tempfile.TemporaryDirectory() as tmp:
        train_population([compose(OVERRIDES)], [Path(tmp)], callbacks=[after])
        row = read_metrics(tmp)[-1]
    return row["seconds"], row["train_loss"], after.seconds


def line(name: str, values: list[float], unit: str = " s/epoch") -> str:
    """`name: median, min, first` of `values`, aligned. The first repeat runs before any Trainer
    has left threads or settings in the process, so a later median far above it shows a Trainer
    run slowing the process down (which slows both sides and hides in their ratio)."""
    median, first = statistics.median(values), values[0]
    return f"{name:<34}: median {median:.3f}{unit}, min {min(values):.3f}, first {first:.3f}"


def ratios(name: str, ours: list[float], base: list[float]) -> str:
    """The median of the repeats' ratios `ours / base`, and every ratio."""
    pairs = sorted(o / b for o, b in zip(ours, base, strict=True))
    listed = ", ".join(f"{r:.2f}" for r in pairs)
    return f"{name:<34}: median {statistics.median(pairs):.3f} ({listed})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", default="lenet", help="a file of conf/model/ (default lenet)")
    args = parser.parse_args()
    # Every side of the comparison composes its run from these overrides.
    OVERRIDES.append(f"model={args.model}")
    lenet = args.model == "lenet"
    prepare_training_process()
    plain, linear, ours, after, losses = [], [], [], [], set()
    for _ in range(args.repeats):
        seconds, plain_loss = stacked_epochs()
        plain.append(seconds)
        # The nn.Linear reference is LeNet-300-100's alone.
        linear.append(linear_epochs() if lenet else math.nan)
        seconds, loss, files = lightning_epochs()
        ours.append(seconds)
        after.append(files)
        losses.add((plain_loss, loss))
    # Timings on a shared CPU wander; runs alternate back to back, so median ratios are steadiest.
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, {threads} threads, {args.model}, {args.repeats} repeats")
    print(line("plain loop (the project's model)", plain))
    if lenet:
        print(line("plain loop (nn.Linear)", linear))
    print(line("lottery_init", ours))
    print(line("lottery_init, files after the row", after, " s"))
    print(ratios("ratio lottery_init / plain loop", ours, plain))
    if lenet:
        print(ratios("ratio lottery_init / nn.Linear", ours, linear))
        print(ratios("ratio plain loop / nn.Linear", plain, linear))
    same = all(a == b for a, b in losses)
    print(f"{'same training loss, both sides':<34}: {same} {sorted(losses)}")
    print(f"{'goal':<34}: lottery_init / plain loop at most 1.15")


if __name__ == "__main__":
    main()
