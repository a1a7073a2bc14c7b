"""Seconds per epoch of the project's Trainer path against a plain PyTorch loop, same process.

Both train LeNet-300-100 on full MNIST with fused Adam (lr 0.0012, batch 60), re-apply the
pruning masks after each step, accumulate loss and accuracy on the device and evaluate the
test set after the epoch. Each is timed on its second epoch, after warm-up; the two
alternate `--repeats` times.
Usage: python benchmarks/epoch_time.py [--repeats N]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from lottery_init import mnist
from lottery_init.config import ROOT, compose
from lottery_init.data import normalize
from lottery_init.results import read_metrics
from lottery_init.train import train


def plain_epochs(epochs: int = 2) -> float:
    """Seconds of the last of `epochs` epochs of a plain PyTorch loop."""
    raw = mnist.load(ROOT / "data")
    x, y = normalize(raw["train_x"]), raw["train_y"].long()
    test_x, test_y = normalize(raw["test_x"]), raw["test_y"].long()
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


def lightning_epochs(epochs: int = 2) -> float:
    """Seconds of the last of `epochs` epochs through `lottery_init.train.train`."""
    overrides = [f"epochs={epochs}", f"prune.every_n_epochs={epochs}", "trainer=cpu"]
    overrides += ["+trainer.enable_progress_bar=false"]
    with tempfile.TemporaryDirectory() as tmp:
        train(compose(overrides), Path(tmp))
        return read_metrics(tmp)[-1]["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    plain, ours = [], []
    for _ in range(args.repeats):
        plain.append(plain_epochs())
        ours.append(lightning_epochs())
    # Timings on a shared CPU wander; pairs run back to back, so the median pair ratio is steadiest.
    ratios = sorted(o / p for o, p in zip(ours, plain, strict=True))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.repeats} pairs")
    print(f"plain loop  : median {statistics.median(plain):.3f} s/epoch, min {min(plain):.3f}")
    print(f"lottery_init: median {statistics.median(ours):.3f} s/epoch, min {min(ours):.3f}")
    listed = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"ratio       : median {statistics.median(ratios):.3f} ({listed})")
    print("goal        : at most 1.15")


if __name__ == "__main__":
    main()
