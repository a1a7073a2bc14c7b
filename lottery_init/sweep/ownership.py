"""One owner per run: the process that trains a run folder holds an OS lock on it (`flock`,
through filelock), which dies with the process, so a killed run never blocks its own resume."""

import json
import logging
import os
import socket
from pathlib import Path

from filelock import FileLock, Timeout
from omegaconf import DictConfig

from lottery_init.devices import device_kind
from lottery_init.runs.layout import LOCK, OWNER
from lottery_init.sweep.folders import conflict

log = logging.getLogger(__name__)
# The folders this process holds: a run that Hydra's basic launcher trains in the sweep's own
# process takes the lock its sweep already holds.
_held: dict[Path, FileLock] = {}


class Unlocked:
    """A claim that holds no lock of its own: on a folder this process already holds, or on a
    filesystem without `flock` (some NFS and Lustre mounts)."""

    def release(self) -> None:
        """Nothing to release."""


def claim(run_dir: Path, wait: bool = False) -> FileLock | Unlocked | None:
    """This process's lock on `run_dir` (waiting for it when `wait`), or None when another
    process holds it; the folder then names that process (`owner`)."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    key = Path(run_dir).resolve()
    if key in _held and _held[key].is_locked:
        return Unlocked()
    # No soft fallback: a soft lock outlives a killed process and would block its resume.
    lock = FileLock(key / LOCK, thread_local=False, fallback_to_soft=False)
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        return None
    except OSError as error:
        log.warning(
            f"{run_dir} cannot be locked on this filesystem ({error.strerror}): a second command "
            "on the same folder would train it too."
        )
        return Unlocked()
    (key / OWNER).write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))
    _held[key] = lock
    return lock


def owner(run_dir: Path) -> str:
    """Who holds `run_dir`'s lock, in words: `<host>, process <pid>`."""
    try:
        holder = json.loads((Path(run_dir) / OWNER).read_text())
        return f"{holder['host']}, process {holder['pid']}"
    except (OSError, ValueError, KeyError):
        # The holder has the lock but has not yet written its name.
        return "another process"


def own_run(run_dir: Path, cfg: DictConfig) -> FileLock | Unlocked:
    """This process's lock on a single run's folder, which holds no run of another config or
    kind of device; a ValueError says why not."""
    lock = claim(run_dir)
    if lock is None:
        raise ValueError(
            f"{run_dir} is being trained by {owner(run_dir)}; wait for it to end, or give this "
            "run another hydra.run.dir."
        )
    reason = conflict(run_dir, cfg, device_kind(cfg.trainer.accelerator))
    if reason is not None:
        lock.release()
        raise ValueError(
            f"{reason}. Resume a run with the command that started it, or give this one "
            "another hydra.run.dir."
        )
    return lock
