"""Populations trained on a device: in this process, or one worker process per device."""

import gc
import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig

from lottery_init.data.dataset import DataError
from lottery_init.sweep.progress import PopulationProgress, SweepClock
from lottery_init.training.population import train_population
from lottery_init.training.process import prepare_training_process

log = logging.getLogger(__name__)
LOG_FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"
# The device a pool worker claimed when it started, and the sweep's clock it shares.
_claimed: str = "cpu"
_clock: SweepClock | None = None


@dataclass
class Population:
    """Jobs trained together: their resolved configs, run folders and log files."""

    label: str
    cfgs: list[DictConfig]
    run_dirs: list[Path]
    log_files: list[Path]
    checkpoint_dir: Path


def trainer_kwargs(device: str) -> dict[str, object]:
    """Trainer arguments that place a population on `device` (`cpu` or `cuda:N`)."""
    if device == "cpu":
        return {"accelerator": "cpu", "devices": 1}
    return {"accelerator": "gpu", "devices": [torch.device(device).index or 0]}


def train_packed(
    population: Population,
    device: str,
    callbacks: Sequence[pl.Callback] = (),
    clock: SweepClock | None = None,
) -> list[dict]:
    """Train one population on `device`, its log lines (with the sweep's progress, given its
    `clock`) also going to each job's log file; `callbacks` are added to the Trainer's."""
    handlers = [logging.FileHandler(path) for path in population.log_files]
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    try:
        names = ", ".join(d.name for d in population.run_dirs)
        log.info(f"{population.label} on {device}: {names}")
        return train_population(
            population.cfgs,
            population.run_dirs,
            checkpoint_dir=population.checkpoint_dir,
            callbacks=[PopulationProgress(population.label, clock), *callbacks],
            enable_progress_bar=False,
            **trainer_kwargs(device),
        )
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()


def release_memory() -> None:
    """Free what a finished population held (data, model, θ₀, masks, optimizer state) before
    the worker's next one starts: the Trainer and its callbacks refer to each other, so only
    the garbage collector frees them, and PyTorch's allocator keeps freed GPU memory cached."""
    gc.collect()
    if torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def _attempt(population: Population, device: str, clock: SweepClock) -> list[dict] | Exception:
    """The run infos of a trained population, or the exception that stopped it; either way
    the sweep's `clock` counts it done."""
    try:
        return train_packed(population, device, clock=clock)
    except Exception as error:
        # One failed population must not stop the sweep. A data error's sentence says what to
        # do; any other error's traceback is what its report needs.
        trace = not isinstance(error, DataError)
        log.error(f"{population.label} failed: {type(error).__name__}: {error}", exc_info=trace)
        return error
    finally:
        clock.one_done()
        release_memory()


def _claim(devices: "multiprocessing.Queue[str]", workers: int, clock: SweepClock) -> None:
    """Pool worker start: take a device of its own, log to stderr, set the process up to train,
    share the CPU cores fairly (a GPU worker's host side too: kernel launches, data orders and
    files slow down when every worker runs as many threads as there are cores)."""
    global _claimed, _clock
    _claimed, _clock = devices.get(), clock
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    prepare_training_process()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def _attempt_on_claimed(population: Population) -> list[dict] | Exception:
    return _attempt(population, _claimed, _clock)


def train_populations(
    populations: Sequence[Population], devices: Sequence[str]
) -> list[list[dict] | Exception]:
    """Train every population: in this process on one device, else one process per device."""
    context = multiprocessing.get_context("spawn")
    clock = SweepClock(len(populations), len(devices), context.Value("i", 0))
    if len(devices) == 1:
        return [_attempt(p, devices[0], clock) for p in populations]
    queue = context.Queue()
    for device in devices:
        queue.put(device)
    initargs = (queue, len(devices), clock)
    with ProcessPoolExecutor(
        len(devices), mp_context=context, initializer=_claim, initargs=initargs
    ) as pool:
        futures = [pool.submit(_attempt_on_claimed, p) for p in populations]
        return [_result(f) for f in futures]


def _result(future: Future) -> list[dict] | Exception:
    """A worker's outcome; a worker that died counts as a failed population."""
    try:
        return future.result()
    except Exception as error:
        return error
