"""Populations as submitit jobs, on Slurm or as local processes: submitted together (one job
array on Slurm), requeued after a time limit or preemption, resumed from their checkpoint."""

import logging
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import submitit
import torch
from submitit.helpers import Checkpointable, DelayedSubmission

from lottery_init.checkpoints import Interrupted
from lottery_init.packing import visible_devices
from lottery_init.population import LOG_FORMAT, Population, train_packed

# Lines a job prints to its stdout when an attempt starts and when submitit requeues it; the
# launcher reads them to tell running from requeued, on Slurm and locally alike.
STARTED = "lottery_init: population started"
REQUEUED = "lottery_init: population requeued"
# Settings of the launcher's `slurm` node that are not sbatch options.
OURS = ("gpu_memory_gib", "max_requeues")


def requeue_signal() -> signal.Signals:
    """The signal on which submitit checkpoints and requeues a job (its `--signal`)."""
    return signal.Signals[f"SIG{submitit.JobEnvironment.USR_SIG}"]


class PopulationJob(Checkpointable):
    """One population trained as a submitit job. Its whole state is its checkpoint on disk, so
    submitit's checkpointing protocol requeues this same job, which resumes from there."""

    def __init__(self, population: Population, cpus: int) -> None:
        self.population, self.cpus = population, cpus

    def __call__(self) -> list[dict]:
        """Train the population on the job's GPU (or CPU); on submitit's signal, requeue."""
        print(STARTED, flush=True)
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
        device = visible_devices(None)[0]
        if device == "cpu":
            torch.set_num_threads(self.cpus)
        try:
            return train_packed(self.population, device)
        except Interrupted as stop:
            if stop.signum == requeue_signal():
                # The fit held the signal until its checkpoint was written; given back to
                # submitit's handler, it calls `checkpoint`, requeues the job and exits.
                signal.raise_signal(stop.signum)
            raise

    def checkpoint(self, *args: Any, **kwargs: Any) -> DelayedSubmission:
        """What submitit requeues: this job again (called in the job, before requeueing)."""
        print(REQUEUED, flush=True)
        return super().checkpoint(*args, **kwargs)


def executor(kind: str, folder: str | Path, slurm: Mapping[str, Any]) -> submitit.Executor:
    """A `slurm` executor with the sbatch options in `slurm`, or a `submitit_local` one with the
    same time limit, warning signal and requeues."""
    options = {k: v for k, v in slurm.items() if k not in OURS and v is not None}
    if kind == "slurm":
        ex = submitit.SlurmExecutor(folder, max_num_timeout=slurm["max_requeues"])
        ex.update_parameters(job_name="lottery_init", **options)
        return ex
    ex = submitit.LocalExecutor(folder, max_num_timeout=slurm["max_requeues"])
    local = ("time", "gpus_per_node", "signal_delay_s", "setup")
    ex.update_parameters(**{"timeout_min" if k == "time" else k: options[k] for k in local})
    return ex


def submit(ex: submitit.Executor, populations: Sequence[Population], cpus: int) -> list:
    """Every population as one job (on Slurm, all of them one job array)."""
    with ex.batch():
        jobs = [ex.submit(PopulationJob(population, cpus)) for population in populations]
    return jobs
