"""Cluster jobs and their GPUs: local jobs each on a GPU of their own, CPU jobs on the CPU
where GPUs are visible, and a population checked against the GPU its job got."""

import functools
import os
import sys
import time

import cloudpickle
import pytest
import torch
from helpers import TINY, composed

from lottery_init import devices
from lottery_init.config.compose import compose
from lottery_init.sweep.cluster import gpu_turns, running, submission
from lottery_init.sweep.packing import MemoryFit
from lottery_init.sweep.workers import Population

GIB = 2**30
# The jobs below run this module's function, which their processes cannot import.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def where_and_when(seconds: float) -> tuple[str, float, float]:
    """The GPUs a job sees, and when it started and ended (it sleeps `seconds`)."""
    start = time.time()
    time.sleep(seconds)
    return os.environ["CUDA_VISIBLE_DEVICES"], start, time.time()


def test_local_jobs_each_get_a_gpu_of_their_own_and_wait_for_a_free_one(tmp_path):
    slurm = composed("hydra/launcher=population").hydra.launcher.slurm  # one GPU per job
    ex = submission.executor("submitit_local", tmp_path / "%j", slurm)
    calls = [functools.partial(where_and_when, 2.0)] * 3
    turns = gpu_turns.GpuTurns(ex, calls, gpus=[3, 5])
    assert turns.jobs[2] is None  # two GPUs, so the third job waits
    first, second, third = running.wait(turns.jobs, ["a", "b", "c"], turns)
    assert {first[0], second[0]} == {"3", "5"} and third[0] in ("3", "5")
    # The third job ran on the GPU of the job that ended, after it ended.
    freed_by = first if third[0] == first[0] else second
    assert third[1] >= freed_by[2]


def test_a_job_that_needs_more_gpus_than_the_machine_has_is_refused(tmp_path):
    slurm = composed("hydra/launcher=population", "hydra.launcher.slurm.gpus_per_node=2").hydra
    ex = submission.executor("submitit_local", tmp_path / "%j", slurm.launcher.slurm)
    with pytest.raises(ValueError, match="asks for 2 GPUs; this machine shows 1"):
        gpu_turns.GpuTurns(ex, [functools.partial(where_and_when, 0.0)], gpus=[0])


def test_local_gpus_are_the_machines_visible_ones(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert devices.local_gpus() == [2, 3]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert devices.local_gpus() == []


@pytest.fixture
def a_visible_gpu(monkeypatch):
    """A 16 GiB GPU with 8 GiB free, as torch's device queries report it; no training runs."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda d: (8 * GIB, 16 * GIB))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda d: "Test GPU")
    trained_on = []
    monkeypatch.setattr(submission, "train_packed", lambda p, device: trained_on.append(device))
    threads = torch.get_num_threads()
    yield trained_on
    torch.set_num_threads(threads)  # a job sets its own, which must not slow the other tests


def one_population(tmp_path, members: int) -> Population:
    cfgs = [compose([*TINY, f"seed={seed}"]) for seed in range(members)]
    dirs = [tmp_path / f"s{seed}" for seed in range(members)]
    return Population("p", cfgs, dirs, [], tmp_path / "ckpt")


def test_a_job_without_gpus_trains_on_the_cpu_where_gpus_are_visible(tmp_path, a_visible_gpu):
    submission.PopulationJob(one_population(tmp_path, 2), cpus=1, gpus=0)()
    assert a_visible_gpu == ["cpu"]


def test_a_gpu_job_trains_on_its_first_gpu(tmp_path, a_visible_gpu):
    fit = MemoryFit(member_mib=1024, margin=0.25)
    submission.PopulationJob(one_population(tmp_path, 6), cpus=1, gpus=1, fit=fit)()
    assert a_visible_gpu == ["cuda:0"]


def test_a_population_too_large_for_the_jobs_gpu_stops_before_training(tmp_path, a_visible_gpu):
    # 8 GiB free with a quarter kept free holds 6 members of 1 GiB, not 7.
    fit = MemoryFit(member_mib=1024, margin=0.25)
    job = submission.PopulationJob(one_population(tmp_path, 7), cpus=1, gpus=1, fit=fit)
    with pytest.raises(submission.TooLarge, match="7 members do not fit in the 8.0 GiB free"):
        job()
    assert a_visible_gpu == []
