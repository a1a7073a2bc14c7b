"""Seconds per epoch of LeNet-300-100 on each dataset, through the run's own path.

For each dataset, a population of `--population` members (xavier_normal, seeds 0, 1, ...) trains
for `--epochs` epochs of the whole training set through `train_population` on the default device,
with the test pass and every run file; the rows' `seconds` (an epoch's training and test pass,
its files excluded) are printed as the median over the epochs after the first, with the input
size and the images per epoch. MNIST and Fashion-MNIST are the real files. CIFAR-10 is read from
a synthetic stand-in archive of its real shape and sizes (50,000 + 10,000 random 3x32x32 images
in the official binary format, its MD5 put in the config), since CIFAR-10 may not be fetchable
where this runs; its epoch time depends on the shape only.
Usage: python benchmarks/datasets.py [--population P] [--epochs N] [--datasets mnist ...]
"""

import argparse
import hashlib
import io
import statistics
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from lottery_init.config.compose import compose
from lottery_init.data import cifar10
from lottery_init.runs.results import read_metrics
from lottery_init.training.population import train_population
from lottery_init.training.process import prepare_training_process


def cifar_stand_in(folder: Path) -> str:
    """A CIFAR-10 binary archive of random images of the real sizes in `folder`; its MD5."""
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    # Level 1: random bytes do not compress, and the archive need not be small.
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        for name in [*cifar10.SPLITS["train"], *cifar10.SPLITS["test"]]:
            records = rng.integers(0, 256, size=(10_000, cifar10.RECORD), dtype=np.uint8)
            records[:, 0] = rng.integers(0, 10, size=10_000)  # the label byte: a class
            data = records.tobytes()
            member = tarfile.TarInfo(f"cifar-10-batches-bin/{name}.bin")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    (folder / cifar10.ARCHIVE).write_bytes(buffer.getvalue())
    return hashlib.md5(buffer.getvalue()).hexdigest()


def configs(dataset: str, population: int, epochs: int, tmp: Path) -> list[DictConfig]:
    """The population's run configs on `dataset` (CIFAR-10 on its stand-in in `tmp`)."""
    overrides = [f"data={dataset}", f"epochs={epochs}", f"prune.every_n_epochs={epochs}"]
    overrides += ["+trainer.enable_progress_bar=false", "checkpoint.every_seconds=1e9"]
    if dataset == "cifar10":
        overrides.append(f"data.data_dir={tmp}")
    cfgs = [compose([*overrides, f"seed={seed}"]) for seed in range(population)]
    if dataset == "cifar10":
        md5 = cifar_stand_in(tmp)
        for cfg in cfgs:
            cfg.data.md5[cifar10.ARCHIVE] = md5
    return cfgs


def epoch_seconds(dataset: str, population: int, epochs: int) -> float:
    """Median seconds of the epochs after the first."""
    with tempfile.TemporaryDirectory() as tmp:
        cfgs = configs(dataset, population, epochs, Path(tmp))
        runs = [Path(tmp) / f"run{p}" for p in range(population)]
        train_population(cfgs, runs)
        return statistics.median(r["seconds"] for r in read_metrics(runs[0])[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=["mnist", "fashion_mnist", "cifar10"])
    args = parser.parse_args()
    prepare_training_process()
    print(f"P = {args.population}, median of epochs 2..{args.epochs}")
    print("dataset        inputs  train images  s per epoch")
    for dataset in args.datasets:
        data = compose([f"data={dataset}"]).data
        seconds = epoch_seconds(dataset, args.population, args.epochs)
        inputs = int(np.prod(data.shape))
        print(f"{dataset:<13} {inputs:>7}  {data.sizes.train:>12}  {seconds:>11.2f}")


if __name__ == "__main__":
    main()
