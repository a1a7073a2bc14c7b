"""Local submitit jobs on GPUs of their own: submitit's local executor shows every job GPU 0."""

from collections.abc import Sequence
from typing import Any

import submitit


class GpuTurns:
    """Local submitit jobs, each on GPUs of its own (submitit would show every job GPU 0): as
    many start as there are GPUs for them, and each next one when an earlier one ends."""

    def __init__(self, ex: submitit.Executor, calls: Sequence[Any], gpus: Sequence[int]) -> None:
        self.per_job = ex.parameters["gpus_per_node"]
        if self.per_job > len(gpus):
            raise ValueError(f"a job asks for {self.per_job} GPUs; this machine shows {len(gpus)}.")
        self.ex, self.calls, self.free = ex, list(calls), list(gpus)
        self.jobs: list[Any | None] = [None] * len(self.calls)
        self._held: dict[int, list[int]] = {}
        self.start()

    def start(self) -> None:
        """Take back the GPUs of jobs that ended, then start waiting jobs on free GPUs, in order."""
        for k in [k for k in self._held if self.jobs[k].done()]:
            self.free += self._held.pop(k)
        for k, call in enumerate(self.calls):
            if self.jobs[k] is None and len(self.free) >= self.per_job:
                gpus, self.free = self.free[: self.per_job], self.free[self.per_job :]
                self.ex.update_parameters(visible_gpus=gpus)
                self.jobs[k], self._held[k] = self.ex.submit(call), gpus
