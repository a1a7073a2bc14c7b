"""Where a sweep stands: its finished jobs, the populations that resume, the jobs to start."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lottery_init.runs.layout import LAST
from lottery_init.runs.results import read_run_or_none
from lottery_init.training.resume import finished


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
