"""Host work kept off a GPU's critical path: memory freed between populations, CPU threads
shared by workers, weights remaining read once per round."""

import gc
import logging
import multiprocessing
import signal
import weakref

import torch
from helpers import TINY, TinyData, tiny_trainer

from lottery_init.config.compose import compose
from lottery_init.models import LeNet
from lottery_init.pruning import masking as pruning_module
from lottery_init.sweep import workers
from lottery_init.sweep.progress import SweepClock
from lottery_init.sweep.workers import Population
from lottery_init.training import population as training
from lottery_init.training.checkpoints import STOP_SIGNALS, CheckpointCadence
from lottery_init.training.console import EpochBar
from lottery_init.training.lightning_module import LotteryModule
from lottery_init.training.population import train_population


def test_a_worker_frees_a_finished_population_before_the_next(tmp_path, mnist_raw, monkeypatch):
    held = []
    built = training.build_population

    def watched(cfgs: list) -> tuple:
        parts = built(cfgs)  # the data module, the module and the pruning callback
        held.extend(weakref.ref(part) for part in parts)
        return parts

    monkeypatch.setattr(training, "build_population", watched)
    cfg = compose([*TINY, "epochs=1", "prune.every_n_epochs=1"])
    population = Population("p", [cfg], [tmp_path / "run"], [], tmp_path / "ckpt")
    clock = SweepClock(1, 1, multiprocessing.Value("i", 0))
    gc.disable()  # so that only the worker's own collection can free the cycles
    try:
        workers._attempt(population, "cpu", clock)
        assert len(held) == 3 and [ref() for ref in held] == [None, None, None]
    finally:
        gc.enable()


def test_a_fit_gives_the_stop_signals_back_as_they_were(tmp_path):
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    model = LeNet(1, input_shape=[20], hidden=[12, 8], num_classes=3)
    cadence = CheckpointCadence(tmp_path, every_seconds=1000)
    tiny_trainer(1, [cadence]).fit(LotteryModule(model), datamodule=TinyData([0]))
    # Not Lightning's handlers, which would keep its Trainer alive and SIGTERM ignored.
    assert [signal.getsignal(s) for s in STOP_SIGNALS] == [signal.SIG_DFL] * len(STOP_SIGNALS)


def test_every_worker_takes_its_share_of_the_cpu_cores(monkeypatch):
    threads = torch.get_num_threads()
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: None)
    queue = multiprocessing.get_context("spawn").Queue()
    queue.put("cuda:1")
    try:
        workers._claim(queue, 4, SweepClock(1, 4, multiprocessing.Value("i", 0)))
        assert workers._claimed == "cuda:1" and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)


def test_the_progress_bar_reads_the_weights_remaining_once_per_round(tmp_path, monkeypatch):
    calls = []
    counted = pruning_module.remaining
    monkeypatch.setattr(pruning_module, "remaining", lambda m: calls.append(1) or counted(m))
    # A bar (as on a terminal), refreshed after every one of the 3 x 10 steps.
    monkeypatch.setattr(training, "progress", lambda kept: EpochBar(kept))
    overrides = [*TINY, "epochs=3", "prune.every_n_epochs=1", "data.chunk=1"]
    overrides[overrides.index("+trainer.enable_progress_bar=false")] = "data.test_size=100"
    train_population([compose(overrides)], [tmp_path])
    # On fit start, then after each of the two prunes.
    assert len(calls) == 3
