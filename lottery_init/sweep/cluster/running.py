"""Training populations as submitit jobs: submitted, watched (one line per change of state),
their outcomes collected."""

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra.errors import CompactHydraException

from lottery_init.devices import local_gpus
from lottery_init.sweep.cluster.gpu_turns import GpuTurns
from lottery_init.sweep.cluster.outcomes import RESULT_GRACE_S, outcome, phase, settled
from lottery_init.sweep.cluster.submission import (
    executor,
    population_jobs,
    record,
    still_active,
    submit,
)
from lottery_init.sweep.packing import MemoryFit
from lottery_init.sweep.workers import Population

log = logging.getLogger(__name__)
# Seconds between looks at the jobs' files; on Slurm, submitit's watcher spaces out its `sacct`.
POLL_SECONDS = 2.0


def wait(
    jobs: Sequence[Any],
    labels: Sequence[str],
    turns: GpuTurns | None = None,
    grace_s: float = RESULT_GRACE_S,
) -> list[list[dict] | Exception]:
    """Wait for every job, logging each change of state; return their outcomes, in order.
    With `turns`, its jobs start as GPUs free up (`jobs` is then its list). A job that ended
    without a result file is given `grace_s` for it to appear."""
    shown: list[str | None] = [None] * len(labels)
    outcomes: dict[int, list[dict] | Exception] = {}
    ended: dict[str, float] = {}
    while len(outcomes) < len(labels):
        if turns is not None:
            turns.start()  # it fills in `jobs`, its own list, as it starts them
        for k, job in enumerate(jobs):
            if k in outcomes:
                continue
            if job is not None and job.done():
                if settled(job, ended, grace_s):
                    outcomes[k] = outcome(job, labels[k])
                continue
            now = "waiting for a free GPU" if job is None else phase(job)
            if now != shown[k]:
                name = labels[k] if job is None else f"{labels[k]} (job {job.job_id})"
                log.info(f"{name}: {now}")
                shown[k] = now
        if len(outcomes) < len(labels):
            time.sleep(POLL_SECONDS)
    return [outcomes[k] for k in range(len(labels))]


def train_as_jobs(
    kind: str,
    populations: Sequence[Population],
    jobs_folder: str,
    slurm: Mapping[str, Any],
    fit: MemoryFit | None = None,
) -> list[list[dict] | Exception]:
    """Train each population as a `kind` job (`slurm` or `submitit_local`) with the `slurm`
    settings, job files in `jobs_folder` (a `%j` pattern), each job checking that its
    population `fit`s its GPU; return the outcomes, in order."""
    root = Path(jobs_folder).parent
    jobs, turns = start(kind, populations, jobs_folder, slurm, fit)
    started = sum(job is not None for job in jobs)
    waiting = f" ({len(jobs) - started} wait for a free GPU)" if started < len(jobs) else ""
    log.info(f"Submitted {started} job(s){waiting}; their logs: {root}")
    try:
        return wait(jobs, [p.label for p in populations], turns, slurm["result_grace_s"])
    except KeyboardInterrupt:
        if kind == "submitit_local":
            for job in jobs:
                if job is not None:
                    job.cancel()
        else:
            log.warning("The Slurm jobs go on; see them with squeue --me.")
        raise


def start(
    kind: str,
    populations: Sequence[Population],
    jobs_folder: str,
    slurm: Mapping[str, Any],
    fit: MemoryFit | None,
) -> tuple[list[Any], GpuTurns | None]:
    """Submit the populations' jobs: on Slurm all at once (after checking that none of their
    runs is still trained); locally on the CPU all at once, on GPUs as each gets one of its
    own (then None stands for a job not yet started, and the turns start it)."""
    ex, cpus = executor(kind, jobs_folder, slurm), slurm["cpus_per_task"]
    root = Path(jobs_folder).parent
    if kind == "slurm":
        refuse_if_still_active(root, jobs_folder, [d for p in populations for d in p.run_dirs])
        jobs = submit(ex, populations, cpus, fit)
        record(root, jobs, populations)
        return jobs, None
    if not slurm["gpus_per_node"]:
        return submit(ex, populations, cpus, fit), None
    turns = GpuTurns(ex, population_jobs(ex, populations, cpus, fit), local_gpus())
    return turns.jobs, turns


def refuse_if_still_active(root: Path, jobs_folder: str, run_dirs: list[Path]) -> None:
    """Stop before submitting when an earlier job of this sweep still trains one of the runs:
    two jobs would write the same folders."""
    active = still_active(root, jobs_folder, run_dirs)
    if active:
        jobs = ", ".join(f"{i} ({state})" for i, state in active.items())
        raise CompactHydraException(
            f"Slurm jobs of this sweep still train some of its runs: {jobs}. Wait for them to "
            "end (squeue --me) or cancel them (scancel), then run this command again."
        )
