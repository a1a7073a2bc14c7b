"""How far a population member's numbers lie from the same job trained alone.

Trains each job alone (a population of one, the basic launcher's path) and all of them together
as one population, on full MNIST with the study's schedule, then prints per job the largest
absolute difference in train loss and test accuracy after the first epoch, over all epochs, and
over the round-end accuracies (the study's numbers), then each round's difference.
Usage: python benchmarks/agreement.py [--epochs 100] [--jobs xavier_normal:1 kaiming_uniform:1]
"""

import argparse
import tempfile
from pathlib import Path

import torch

from lottery_init.config.compose import compose
from lottery_init.runs.results import read_metrics, read_run
from lottery_init.training.population import train_population
from lottery_init.training.process import prepare_training_process


def train(jobs: list[tuple[str, int]], epochs: int, folder: Path) -> list[Path]:
    """Train `jobs` as one population into `folder`; their run folders."""
    cfgs = [
        compose([f"init={init}", f"seed={seed}", f"epochs={epochs}", "trainer=cpu"])
        for init, seed in jobs
    ]
    run_dirs = [folder / f"{init}_s{seed}" for init, seed in jobs]
    train_population(cfgs, run_dirs, enable_progress_bar=False)
    return run_dirs


def largest(a: list[dict], b: list[dict], key: str) -> float:
    """The largest absolute difference of `key` between two equally long lists of rows."""
    return max(abs(x[key] - y[key]) for x, y in zip(a, b, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--jobs", nargs="+", default=["xavier_normal:1", "kaiming_uniform:1"])
    args = parser.parse_args()
    prepare_training_process()
    jobs = [(job.split(":")[0], int(job.split(":")[1])) for job in args.jobs]
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        together = train(jobs, args.epochs, Path(tmp) / "population")
        alone = [train([job], args.epochs, Path(tmp) / "solo")[0] for job in jobs]
        print(f"P = {len(jobs)} against P = 1, {args.epochs} epochs of full MNIST, CPU")
        print(
            "| job | train loss, epoch 1 | test acc, epoch 1 | test acc, any epoch "
            "| round-end test acc, any round | final round |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for job, pop_dir, solo_dir in zip(jobs, together, alone, strict=True):
            p, s = read_metrics(pop_dir), read_metrics(solo_dir)
            pr, sr = read_run(pop_dir)["rounds"], read_run(solo_dir)["rounds"]
            print(
                f"| {job[0]} s{job[1]} | {largest(p[:1], s[:1], 'train_loss'):.1e} "
                f"| {largest(p[:1], s[:1], 'test_acc'):.2%} | {largest(p, s, 'test_acc'):.2%} "
                f"| {largest(pr, sr, 'test_acc'):.2%} "
                f"| {largest(pr[-1:], sr[-1:], 'test_acc'):.2%} |"
            )
        print("\n| round | remaining | " + " | ".join(f"{i} s{s}" for i, s in jobs) + " |")
        print("|---:|---:|" + "---:|" * len(jobs))
        for r, entry in enumerate(read_run(together[0])["rounds"]):
            gaps = [
                abs(read_run(p)["rounds"][r]["test_acc"] - read_run(s)["rounds"][r]["test_acc"])
                for p, s in zip(together, alone, strict=True)
            ]
            print(f"| {r} | {entry['remaining']:.1%} | " + " | ".join(f"{g:.2%}" for g in gaps))


if __name__ == "__main__":
    main()
