"""Process-wide settings: made by the entry points of the processes that train, not on import."""

import logging
import multiprocessing
import queue
import subprocess
import sys

import pytest
import torch

from lottery_init.config.paths import ROOT
from lottery_init.sweep import workers
from lottery_init.sweep.cluster import submission
from lottery_init.sweep.progress import SweepClock
from lottery_init.training.process import OUR_LINES, prepare_training_process


def flushing() -> bool:
    """Whether this thread flushes subnormal floats to zero (1e-40 is one in float32)."""
    return torch.tensor([1e-40]).mul(1.0).item() == 0.0


@pytest.fixture
def fresh_process():
    """This process as a new one starts: subnormals kept, our loggers at their default level
    and the root logger at its default, WARNING; the test process's own settings come back
    afterwards."""
    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU cannot flush subnormal floats")
    # `setLevel`, not the attribute, so that the loggers forget the levels they cached.
    loggers = [logging.getLogger(name) for name in ("", *OUR_LINES)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING if logger is logging.root else logging.NOTSET)
    threads = torch.get_num_threads()
    yield
    torch.set_flush_denormal(True)
    torch.set_num_threads(threads)
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def test_a_prepared_process_flushes_subnormal_floats_to_zero(fresh_process):
    assert not flushing()
    prepare_training_process()
    assert flushing()


def test_a_prepared_process_shows_our_lines_where_the_root_logger_shows_warnings_only(
    fresh_process, caplog
):
    logging.getLogger("lottery_init.sweep.workers").info("hidden")
    prepare_training_process()
    for name in OUR_LINES:
        logging.getLogger(name).info(f"shown by {name}")
    assert "hidden" not in caplog.text
    assert all(f"shown by {name}" in caplog.text for name in OUR_LINES)


def test_importing_the_training_modules_sets_no_log_level():
    code = (
        "import logging, lottery_init.train, lottery_init.sweep.cluster.running, "
        "hydra_plugins.population_launcher.launcher; "
        "print([n for n, l in logging.root.manager.loggerDict.items() "
        "if n.startswith('lottery_init') and getattr(l, 'level', 0)])"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout == "[]\n", done.stderr[-2000:]


def test_a_pool_worker_prepares_its_process_as_it_starts(fresh_process, monkeypatch):
    monkeypatch.setattr(workers, "_claimed", workers._claimed)
    monkeypatch.setattr(workers, "_clock", workers._clock)
    devices: queue.Queue[str] = queue.Queue()
    devices.put("cpu")
    finished = multiprocessing.get_context("spawn").Value("i", 0)
    workers._claim(devices, 1, SweepClock(1, 1, finished))
    assert flushing() and workers._claimed == "cpu"


def test_a_cluster_job_prepares_its_process_before_it_trains(fresh_process, monkeypatch):
    seen = []
    monkeypatch.setattr(submission, "train_packed", lambda p, device: seen.append(flushing()))
    job = submission.PopulationJob(workers.Population("p", [], [], [], None), cpus=1, gpus=0)
    job()
    assert seen == [True]
