"""What a sweep's user waits for: member-epochs per second of the whole population path, and the
projected wall time of the study grid (88 runs x 100 epochs).

For each P (default 1, 11, 88), P jobs of the grid (the 8 init methods in turn, seeds 0, 1, ...)
train through `train_packed`, the function the population launcher calls, for `--epochs` epochs
of full MNIST on the default device: the study's pruning (20%, rewind to θ₀; here after every
epoch, so that a short run crosses round boundaries), the test pass, every run's files, and a
checkpoint after every epoch so that its cost is measured at every epoch. Printed per P:
seconds per population-epoch and member-epochs per second (median over the epochs after the
first), the checkpoint's size and seconds per write, the share of time in checkpoints when one
is written every epoch and at the default `checkpoint.every_seconds`, the share of an epoch's
time spent writing run files (rows, round tables in run.json, masks.npz, as `RunRecorder`
counts them) and TensorBoard histograms of the survivors (each epoch here ends a round; the
study's rounds of 5 epochs divide the rounds' part by 5, and θ₀'s histograms count in the
start-up), and the projected grid time with the population launcher (ceil(88 / P) populations
of P, one after another) and with the basic launcher (88 runs of P = 1, one after another).
Usage: python benchmarks/sweep.py [--epochs N] [--sizes 1 11 88]
"""

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
import torch

from lottery_init.config.compose import compose
from lottery_init.config.paths import ROOT
from lottery_init.devices import local_devices
from lottery_init.runs.layout import LAST
from lottery_init.sweep.workers import Population, train_packed
from lottery_init.training.checkpoints import CheckpointCadence
from lottery_init.training.process import prepare_training_process
from lottery_init.training.recorder import RunRecorder

GRID_RUNS, GRID_EPOCHS = 88, 100
METHODS = sorted(p.stem for p in (ROOT / "conf" / "init").glob("*.yaml"))
CADENCE = compose().checkpoint.every_seconds


class EpochClock(pl.Callback):
    """Times each epoch end to end (pruning, training, test pass, files, checkpoint), and the
    part of each spent on run files and histograms."""

    def __init__(self) -> None:
        self.epochs: list[float] = []
        self.host: dict[str, list[float]] = {"files": [], "histograms": []}
        self.cadence: CheckpointCadence | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._last = time.perf_counter()
        self.cadence = next(c for c in trainer.callbacks if isinstance(c, CheckpointCadence))
        self.recorder = next(c for c in trainer.callbacks if isinstance(c, RunRecorder))
        self._host = dict(self.recorder.host_seconds)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # The recorder's hooks run before this clock's, so the epoch's files are counted.
        now = time.perf_counter()
        self.epochs.append(now - self._last)
        self._last = now
        for kind, seconds in self.recorder.host_seconds.items():
            self.host[kind].append(seconds - self._host[kind])
        self._host = dict(self.recorder.host_seconds)


def measure(size: int, epochs: int, device: str) -> dict[str, float]:
    """Train a population of `size` jobs; its per-epoch, start-up, checkpoint, file and
    histogram times."""
    overrides = [f"epochs={epochs}", "prune.every_n_epochs=1", "checkpoint.every_seconds=0"]
    cfgs = [
        compose([*overrides, f"init={METHODS[i % len(METHODS)]}", f"seed={i // len(METHODS)}"])
        for i in range(size)
    ]
    clock = EpochClock()
    with tempfile.TemporaryDirectory() as tmp:
        dirs = [Path(tmp) / f"job{i}" for i in range(size)]
        population = Population(f"P = {size}", cfgs, dirs, [Path(tmp) / "log"], Path(tmp) / "ckpt")
        start = time.perf_counter()
        train_packed(population, device, callbacks=[clock])
        wall = time.perf_counter() - start
        size_bytes = (Path(tmp) / "ckpt" / LAST).stat().st_size
    write = clock.cadence.seconds / clock.cadence.writes
    epoch = statistics.median(clock.epochs[1:])
    return {
        "epoch": epoch,
        "startup": wall - sum(clock.epochs),
        "write": write,
        "bytes": size_bytes,
        **{kind: statistics.median(times[1:]) for kind, times in clock.host.items()},
    }


def projected_minutes(m: dict[str, float], runs: int) -> float:
    """Wall time of `runs` populations like `m`, each 100 epochs, at the default cadence."""
    train = GRID_EPOCHS * (m["epoch"] - m["write"])
    writes = math.ceil(train / max(CADENCE, m["epoch"] - m["write"])) + 1
    return runs * (m["startup"] + train + writes * m["write"]) / 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 11, 88])
    args = parser.parse_args()
    prepare_training_process()
    device = local_devices(None, compose().trainer.accelerator)[0]
    name = torch.cuda.get_device_name(device) if device != "cpu" else "CPU"
    print(f"torch {torch.__version__} on {name} ({torch.get_num_threads()} threads), ", end="")
    print(f"{args.epochs} epochs of full MNIST per population, default cadence {CADENCE:g} s")
    results = {size: measure(size, args.epochs, device) for size in args.sizes}
    print(
        "    P  s/pop-epoch  member-epochs/s  MB/member  s/ckpt  ckpt share: every epoch  "
        "default  files share  histogram share  grid min: population  basic"
    )
    basic = projected_minutes(results[1], GRID_RUNS) if 1 in results else math.nan
    for size, m in results.items():
        every = m["write"] / m["epoch"]
        default = m["write"] / max(CADENCE, m["epoch"])
        grid = projected_minutes(m, math.ceil(GRID_RUNS / size))
        print(
            f"{size:>5}  {m['epoch']:>11.2f}  {size / m['epoch']:>15.2f}  "
            f"{m['bytes'] / size / 1e6:>9.2f}  {m['write']:>6.3f}  {every:>23.1%}  "
            f"{default:>7.2%}  {m['files'] / m['epoch']:>11.1%}  "
            f"{m['histograms'] / m['epoch']:>15.1%}  {grid:>20.1f}  {basic:>5.1f}"
        )


if __name__ == "__main__":
    main()
