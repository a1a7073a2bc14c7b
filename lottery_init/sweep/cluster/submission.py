"""Populations as submitit jobs, on Slurm or as local processes: submitted together (one job
array on Slurm), requeued after a time limit or preemption, resumed from their checkpoint."""

import json
import logging
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import submitit
import torch
from submitit.helpers import Checkpointable, DelayedSubmission

from lottery_init.runs.layout import JOBS_RECORD
from lottery_init.runs.results import write_json
from lottery_init.sweep.packing import MemoryFit
from lottery_init.sweep.workers import LOG_FORMAT, Population, train_packed
from lottery_init.training.checkpoints import Interrupted
from lottery_init.training.process import prepare_training_process

log = logging.getLogger(__name__)
# Lines a job prints to its stdout when an attempt starts and when submitit requeues it; the
# launcher reads them to tell running from requeued, on Slurm and locally alike.
STARTED = "lottery_init: population started"
REQUEUED = "lottery_init: population requeued"
# Settings of the launcher's `slurm` node that are not sbatch options.
OURS = ("gpu_memory_gib", "max_requeues", "result_grace_s")
# Slurm states of a job that may still write to its runs' folders.
ACTIVE = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "REQUEUED", "PREEMPTED", "SUSPENDED"}


def requeue_signal() -> signal.Signals:
    """The signal on which submitit checkpoints and requeues a job (its `--signal`)."""
    return signal.Signals[f"SIG{submitit.JobEnvironment.USR_SIG}"]


class TooLarge(RuntimeError):
    """A population that the GPU its job got cannot hold."""


def check_fits(members: int, device: str, fit: MemoryFit) -> None:
    """Stop, before any training, when `members` do not fit in the free memory of the job's
    GPU (the launcher sized them for the configured `gpu_memory_gib`, not for this GPU)."""
    if not torch.cuda.is_available():
        raise RuntimeError("this job asked for a GPU but sees none (CUDA_VISIBLE_DEVICES).")
    free = torch.cuda.mem_get_info(torch.device(device))[0]
    if members > fit.members(free):
        name = torch.cuda.get_device_name(torch.device(device))
        raise TooLarge(
            f"{members} members do not fit in the {free / 2**30:.1f} GiB free on this job's "
            f"{name} (room for {fit.members(free)}); set hydra.launcher.slurm.gpu_memory_gib "
            "to its memory, or a smaller hydra.launcher.max_population, and run it again."
        )


class PopulationJob(Checkpointable):
    """One population trained as a submitit job. Its whole state is its checkpoint on disk, so
    submitit's checkpointing protocol requeues this same job, which resumes from there."""

    def __init__(
        self, population: Population, cpus: int, gpus: int, fit: MemoryFit | None = None
    ) -> None:
        self.population, self.cpus, self.gpus, self.fit = population, cpus, gpus, fit

    def __call__(self) -> list[dict]:
        """Train the population on the job's first GPU, or on its CPUs when it asked for no
        GPU (even where GPUs are visible); on submitit's signal, requeue."""
        print(STARTED, flush=True)
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
        prepare_training_process()
        # The job's CPUs are its share of the node, GPU or not: the host side of a GPU step
        # (kernel launches, data orders, files) slows down when threads oversubscribe them.
        torch.set_num_threads(self.cpus)
        device = "cuda:0" if self.gpus else "cpu"
        if self.gpus and self.fit is not None:
            check_fits(len(self.population.cfgs), device, self.fit)
        try:
            return train_packed(self.population, device)
        except Interrupted as stop:
            if stop.signum in (signal.SIGUSR1, requeue_signal()):
                # The fit held the signal until its checkpoint was written; submitit's handler,
                # given its own signal, calls `checkpoint`, requeues the job and exits. SIGUSR1,
                # many clusters' warning signal, takes the same path: submitit is the only
                # requeuer (Lightning's own is off, see `checkpoints.cluster_environment`).
                log.warning("Requeueing this job; it resumes from that checkpoint.")
                signal.raise_signal(requeue_signal())
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


def population_jobs(
    ex: submitit.Executor, populations: Sequence[Population], cpus: int, fit: MemoryFit | None
) -> list[PopulationJob]:
    """The jobs that train `populations`, each with `cpus` CPUs and the executor's GPUs."""
    gpus = ex.parameters.get("gpus_per_node") or 0
    return [PopulationJob(population, cpus, gpus, fit) for population in populations]


def submit(
    ex: submitit.Executor,
    populations: Sequence[Population],
    cpus: int,
    fit: MemoryFit | None = None,
) -> list:
    """Every population as one job (on Slurm, all of them one job array)."""
    calls = population_jobs(ex, populations, cpus, fit)
    with ex.batch():
        jobs = [ex.submit(call) for call in calls]
    return jobs


def record(folder: str | Path, jobs: Sequence[Any], populations: Sequence[Population]) -> None:
    """Add each job's id and run folders to the record in `folder` (the jobs' parent folder)."""
    path = Path(folder) / JOBS_RECORD
    known = json.loads(path.read_text()) if path.exists() else {}
    for job, population in zip(jobs, populations, strict=True):
        known[job.job_id] = [str(d) for d in population.run_dirs]
    write_json(path, known)


def still_active(folder: str | Path, jobs_folder: str, run_dirs: Sequence[Path]) -> dict[str, str]:
    """The recorded Slurm jobs that are queued or running with one of `run_dirs`: id -> state."""
    path = Path(folder) / JOBS_RECORD
    if not path.exists():
        return {}
    wanted = {str(d) for d in run_dirs}
    ids = [i for i, runs in json.loads(path.read_text()).items() if wanted & set(runs)]
    jobs = [submitit.SlurmJob(jobs_folder, i) for i in ids]
    if jobs:
        # Every job registers with submitit's shared watcher, so one `sacct` asks for all.
        jobs[0].get_info(mode="force")
    states = {job.job_id: job.get_info(mode="cache").get("State") for job in jobs}
    return {i: state for i, state in states.items() if str(state).split()[0] in ACTIVE}
