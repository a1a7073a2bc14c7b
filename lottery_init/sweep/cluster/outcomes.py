"""What an unfinished or ended submitit job shows: its phase, from the lines its attempts
printed, and its outcome: run infos, or a failure with the end of its stderr."""

import logging
import time
from typing import Any

from submitit.core.utils import FailedJobError, UncompletedJobError

from lottery_init.sweep.cluster.submission import REQUEUED, STARTED
from lottery_init.sweep.failures import JobFailed

log = logging.getLogger(__name__)
# Lines of a failed job's stderr that its failure line shows.
TAIL = 8
RULE = "-" * 22
# Seconds an ended job may take to show its result file (a shared filesystem can show it late),
# as submitit's own wait; submitit waits inside each `result()`, one job after another (25 min
# for 100 cancelled jobs), while the sweep gives the grace to all of its ended jobs at once.
RESULT_GRACE_S = 15.0


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


def settled(job: Any, ended: dict[str, float], grace_s: float = RESULT_GRACE_S) -> bool:
    """Whether an ended job's outcome can be read: its result file is there, or `grace_s` have
    passed since it was first seen ended (`ended` notes when, by job id)."""
    if job.paths.result_pickle.exists():
        return True
    first = ended.setdefault(job.job_id, time.monotonic())
    if time.monotonic() - first < grace_s:
        return False
    # A job that Slurm is requeueing passes through states that submitit counts as ended; asked
    # again, it is pending, and the grace starts over when it ends next.
    if not job.done(force_check=True):
        del ended[job.job_id]
        return False
    job._results_timeout_s = 0  # the grace is spent: submitit is not to wait once more
    return True
