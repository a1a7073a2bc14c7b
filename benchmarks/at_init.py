"""What pruning at initialization costs: each method's scoring of a population, as a ratio to one
training epoch of the same population.

A population of `--population` LeNet-300-100 members on MNIST (xavier_normal, seeds 0, 1, ...)
is scored by each method at `--remaining` with its `conf/prune` settings (SNIP and GraSP on each
member's first 100 images, SynFlow's 100 iterations), on `--device`; the median of `--repeats`
scorings is divided by the median epoch (after the first) of the same population trained through
`train_population` with `prune=magnitude_at_init` on the default device.
Usage: python benchmarks/at_init.py [--population P] [--device cpu|cuda] [--repeats N]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from lottery_init.config.compose import compose
from lottery_init.pruning.at_init_methods import METHODS_AT_INIT, masks_at_init
from lottery_init.runs.results import read_metrics
from lottery_init.training.population import build_population, train_population
from lottery_init.training.process import prepare_training_process

COMMON = ["+trainer.enable_progress_bar=false", "checkpoint.every_seconds=1e9"]


def scoring_seconds(method: str, population: int, device: str, repeats: int) -> float:
    """Median seconds to score the population's masks with `method` on `device`."""
    cfgs = [compose([f"prune={method}", *COMMON, f"seed={s}"]) for s in range(population)]
    datamodule, module, _ = build_population(cfgs)
    datamodule.device = torch.device(device)
    datamodule.setup()
    model, prune = module.model.to(device), cfgs[0].prune
    batch = datamodule.first_images(prune.get("images") or 1)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        masks = masks_at_init(
            method,
            model,
            prune.remaining,
            prune.scope,
            batch=batch if METHODS_AT_INIT[method].needs_images else None,
            temperature=prune.get("temperature") or 1.0,
            iterations=prune.get("iterations") or 1,
            input_shape=batch[0].shape[2:],
        )
        masks[0].sum().item()  # waits for the device
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def epoch_seconds(population: int, epochs: int = 3) -> float:
    """Median seconds of a training epoch after the first, the same population pruned at init."""
    overrides = ["prune=magnitude_at_init", f"epochs={epochs}", *COMMON]
    cfgs = [compose([*overrides, f"seed={s}"]) for s in range(population)]
    with tempfile.TemporaryDirectory() as tmp:
        runs = [Path(tmp) / f"run{p}" for p in range(population)]
        train_population(cfgs, runs)
        return statistics.median(r["seconds"] for r in read_metrics(runs[0])[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=6)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    prepare_training_process()
    epoch = epoch_seconds(args.population)
    print(f"P = {args.population}; one training epoch: {epoch:.2f} s")
    print("method              scoring s   / epoch")
    for method in METHODS_AT_INIT:
        seconds = scoring_seconds(method, args.population, args.device, args.repeats)
        print(f"{method:<18} {seconds:>10.3f}  {seconds / epoch:>8.3f}")


if __name__ == "__main__":
    main()
