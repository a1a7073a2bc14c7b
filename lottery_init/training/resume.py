"""Picking up where a run stopped: whether it is finished, and the checkpoint to resume from."""

import logging
from pathlib import Path
from typing import Any

from lottery_init.runs.layout import LAST
from lottery_init.training.checkpoints import load

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
