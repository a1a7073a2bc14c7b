"""Picking up where a run stopped: finished runs, the checkpoint to resume from, the commit."""

import logging
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lottery_init.checkpoints import LAST, load
from lottery_init.results import read_run_or_none

log = logging.getLogger(__name__)


def finished(info: dict[str, Any] | None) -> bool:
    """Whether a run needs no more training: done, or diverged (which a rerun would repeat)."""
    if info is None:
        return False
    return info["status"] == "done" or (info["status"] == "failed" and "failed_epoch" in info)


def resume_point(checkpoint_dir: Path) -> tuple[Path | None, int]:
    """The checkpoint to resume from and the number of epochs it completed, or (None, 0)."""
    path = Path(checkpoint_dir) / LAST
    if not path.exists():
        return None, 0
    try:
        # Memory-mapped, so only the epoch is read here; Lightning loads the whole file later.
        return path, int(load(path, mmap=True)["epoch"]) + 1
    except Exception as error:
        # A damaged file, or one holding pickled code (refused unrun), means starting afresh.
        log.warning(
            f"{path} was not loaded ({type(error).__name__}: damaged, or not only tensors and "
            "plain values); starting afresh."
        )
        return None, 0


def git_commit(folder: Path) -> dict[str, Any] | None:
    """The commit of the code in `folder` and whether it had uncommitted changes."""
    try:
        run = lambda *args: subprocess.run(  # noqa: E731
            ["git", *args], cwd=folder, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain"))}
    except (OSError, subprocess.SubprocessError):
        return None


def sweep_state(
    run_dirs: Sequence[Path],
) -> tuple[dict[int, dict[str, Any]], list[tuple[list[int], Path]], list[int]]:
    """Which jobs of a sweep are finished (with their `run.json`), which populations resume from
    their checkpoint (members in their recorded order), and which jobs start afresh; by index
    into `run_dirs`."""
    infos = [read_run_or_none(d) for d in run_dirs]
    done = {i: info for i, info in enumerate(infos) if finished(info)}
    index = {Path(d).name: i for i, d in enumerate(run_dirs)}
    resumed: list[tuple[list[int], Path]] = []
    taken: set[int] = set()
    for i, info in enumerate(infos):
        if i in taken or finished(info) or "population" not in (info or {}):
            continue
        members = [index.get(name) for name in info["population"]["runs"]]
        checkpoint_dir = Path(info["population"]["checkpoint_dir"])
        if None in members or taken & set(members) or not (checkpoint_dir / LAST).exists():
            continue
        resumed.append((members, checkpoint_dir))
        taken |= set(members)
    fresh = [i for i in range(len(run_dirs)) if i not in taken and i not in done]
    return done, resumed, fresh
