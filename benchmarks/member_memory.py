"""Peak memory per population member: what one more member of a model (LeNet-300-100 by
default) costs, so a GPU job's population can be sized to fit its GPU.

Trains populations of two sizes for one epoch with a prune (the study's batch, chunk and
10,000-image test batch; fewer training images, which are shared by all members) and prints
the peak memory of each and the difference per member. On CUDA the peak is the caching
allocator's `max_memory_allocated`; on the CPU it is the peak resident size of a fresh process
per size (so it also counts the allocator's slack, an upper bound for the GPU's number).
Usage: python benchmarks/member_memory.py [--device cuda] [--sizes 1 33] [--model lenet5]
"""

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from lottery_init.config.compose import compose
from lottery_init.sweep.workers import trainer_kwargs
from lottery_init.training.population import train_population
from lottery_init.training.process import prepare_training_process

SETTINGS = ["epochs=1", "prune.every_n_epochs=1", "data.train_size=6000"]


def train(population: int, device: str, model: str) -> None:
    """One epoch and one prune of a population of `population` members on `device`."""
    cfgs = [compose([*SETTINGS, f"model={model}", f"seed={seed}"]) for seed in range(population)]
    with tempfile.TemporaryDirectory() as folder:
        dirs = [Path(folder) / str(seed) for seed in range(population)]
        kwargs = trainer_kwargs(device) | {"enable_progress_bar": False}
        train_population(cfgs, dirs, checkpoint_dir=Path(folder) / "ckpt", **kwargs)


def peak_bytes(population: int, device: str, model: str) -> int:
    """Peak memory of training a population: CUDA allocator peak, or a fresh process's peak RSS."""
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(device)
        train(population, device, model)
        return torch.cuda.max_memory_allocated(device)
    child = [sys.executable, __file__, "--child", str(population), "--model", model]
    return int(subprocess.run(child, check=True, capture_output=True, text=True).stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", type=int, nargs=2, default=[1, 33])
    parser.add_argument("--model", default="lenet", help="a file of conf/model/ (default lenet)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    prepare_training_process()
    if args.child is not None:
        train(args.child, "cpu", args.model)
        # ru_maxrss is in kilobytes on Linux.
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        return
    small, large = args.sizes
    peaks = {p: peak_bytes(p, args.device, args.model) for p in (small, large)}
    for p, peak in peaks.items():
        print(f"{args.model} P={p:>4}: peak {peak / 2**20:8.1f} MiB on {args.device}")
    per_member = (peaks[large] - peaks[small]) / (large - small)
    print(f"per member: {per_member / 2**20:.1f} MiB ({per_member:.3g} bytes)")


if __name__ == "__main__":
    main()
