"""Training populations as submitit jobs: submitted, watched (one line per change of state),
their outcomes collected."""

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra.errors import CompactHydraException
from submitit.core.utils import FailedJobError, UncompletedJobError

from lottery_init.devices import local_gpus
from lottery_init.sweep.cluster.gpu_turns import GpuTurns
from lottery_init.sweep.cluster.submission import (
    REQUEUED,
    STARTED,
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
# Lines of a failed job's stderr that its failure line shows.
TAIL = 8
RULE = "-" * 22


class JobFailed(CompactHydraException):
    """A population's job that failed: Hydra ends the multirun with this one line, since the
    launcher's own traceback says nothing about the job (its stderr's end is logged)."""


def phase(job: Any) -> str:
    """Where an unfinished job is, from the lines its attempts printed: queued, running,
    requeued (between attempts) or running again."""
    path = job.paths.stdout
    text = path.read_text(errors="replace") if path.exists() else ""
    starts, requeues = text.count(STARTED), text.count(REQUEUED)
    if starts == 0:
        return "queued"
    if requeues >= starts:
        return f"requeued after a time limit or preemption ({requeues} so far)"
    return "running" if starts == 1 else f"running again from its checkpoint (attempt {starts})"


def tail(job: Any, lines: int = TAIL) -> str:
    """The last `lines` lines of a job's stderr, indented."""
    path = job.paths.stderr
    text = path.read_text(errors="replace") if path.exists() else "(no stderr)"
    return "\n".join(f"    {line}" for line in text.rstrip().splitlines()[-lines:])


def outcome(job: Any, label: str) -> list[dict] | Exception:
    """A finished job's run infos, or the error that ended it (its stderr's end logged)."""
    try:
        infos = job.result()
    except UncompletedJobError as error:
        # Failed in the job (FailedJobError, a subclass), or ended without a result.
        name = f"{label} (job {job.job_id})"
        log.error(f"{name}: failed; the end of {job.paths.stderr}:\n{tail(job)}")
        return JobFailed(f"{label} failed as job {job.job_id}: {reason(error, job.state)}")
    log.info(f"{label} (job {job.job_id}): done")
    return infos


def reason(error: Exception, state: str) -> str:
    """One line for a failed job: its exception's last line, or that it left no result and
    the job's final `state` (on Slurm e.g. TIMEOUT, OUT_OF_MEMORY, NODE_FAIL)."""
    # A failed job's message holds its traceback between two rules of dashes.
    parts = str(error).split(RULE)
    if isinstance(error, FailedJobError) and len(parts) > 2:
        return (parts[1].strip().splitlines() or ["an error"])[-1]
    return f"it ended without a result (state {state}: killed, or stopped by a signal)"


def wait(
    jobs: Sequence[Any], labels: Sequence[str], turns: GpuTurns | None = None
) -> list[list[dict] | Exception]:
    """Wait for every job, logging each change of state; return their outcomes, in order.
    With `turns`, its jobs start as GPUs free up (`jobs` is then its list)."""
    shown: list[str | None] = [None] * len(labels)
    outcomes: dict[int, list[dict] | Exception] = {}
    while len(outcomes) < len(labels):
        if turns is not None:
            turns.start()  # it fills in `jobs`, its own list, as it starts them
        for k, job in enumerate(jobs):
            if k in outcomes:
                continue
            if job is not None and job.done():
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
        return wait(jobs, [p.label for p in populations], turns)
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
