"""`hydra/sweeper=checked`: Hydra's basic sweeper, checking every job before any job runs,
naming each job's folder by what the job is, and training only the folders it owns."""

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.hydra_config import HydraConfig
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig

from lottery_init.config.compose import run_config
from lottery_init.config.validate import validate
from lottery_init.devices import sweep_device_kind
from lottery_init.sweep.folders import conflict, job_name
from lottery_init.sweep.ownership import Unlocked, claim, owner

log = logging.getLogger(__name__)
# Launchers that train in the sweep's own process, which can hold its runs' locks for them.
# Other launchers (Hydra's submitit ones) start each job as a process of its own, which locks
# its folder itself when it starts (`ownership.own_run`).
IN_PROCESS = (
    "hydra._internal.core_plugins.basic_launcher.BasicLauncher",
    "hydra_plugins.population_launcher.launcher.PopulationLauncher",
)
# A job's folder name, resolved run config and kind of device.
Checked = tuple[str, DictConfig, str]


class CheckedSweeper(BasicSweeper):
    """Composes and validates every job of a batch before the launcher starts the first one, so
    that a bad value in the last job of a sweep costs seconds, not the hours of the jobs before.
    Each job's folder is named by its init, seed and the overrides that set it apart
    (`folders.job_name`), so a sweep grown in the same folder finds its finished runs again.
    Each folder is locked for the whole sweep (`ownership.claim`): a folder another process
    trains is left to it (or waited for, with `wait_for_owners`), and a folder holding a run
    of another config stops the sweep before any training."""

    def __init__(
        self,
        max_batch_size: int | None = None,
        params: dict[str, str] | None = None,
        wait_for_owners: bool = False,
    ) -> None:
        super().__init__(max_batch_size, params)
        self.wait_for_owners = wait_for_owners
        self._locks: list[Any] = []

    def sweep(self, arguments: list[str]) -> Any:
        """Hydra's sweep, the run folders' locks released when it ends, however it ends."""
        try:
            return super().sweep(arguments)
        finally:
            for lock in self._locks:
                lock.release()
            self._locks = []

    def get_job_batch(self) -> Sequence[Sequence[str]]:
        batch = super().get_job_batch()
        current = HydraConfig.instance().cfg
        try:
            jobs = [self._checked(list(overrides)) for overrides in batch]
        finally:
            HydraConfig.instance().cfg = current
        taken: dict[str, str] = {}
        for (name, _, _), overrides in zip(jobs, batch, strict=True):
            job = " ".join(overrides)
            if name in taken:
                raise ConfigCompositionException(
                    f"jobs '{taken[name]}' and '{job}' would share the folder {name}."
                )
            taken[name] = job
        owned = self._owned(jobs)
        # A quoted value, so that Hydra takes the name as one string and not as a sweep.
        return [[*batch[k], f"hydra.sweep.subdir='{jobs[k][0]}'"] for k in owned]

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Nothing left to check: `get_job_batch` composed and checked every job."""

    def _checked(self, overrides: list[str]) -> Checked:
        """The job's folder name, config and kind of device, after checking its config."""
        job = self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
        cfg = run_config(job)
        try:
            validate([cfg])
            kind = sweep_device_kind(job.hydra.launcher, cfg.trainer.accelerator)
        except ValueError as error:
            # Hydra prints a composition error as its message alone, with no traceback.
            raise ConfigCompositionException(f"{error} (job: {' '.join(overrides)})") from None
        return job_name(overrides, job, self.config), cfg, kind

    def _owned(self, jobs: list[Checked]) -> list[int]:
        """The jobs whose folders this process now owns, each checked under its lock; the
        others are left to the processes that train them (one line says which, and to whom)."""
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        locking = self.config.hydra.launcher.get("_target_") in IN_PROCESS
        owned, left = [], {}
        for k, (name, cfg, kind) in enumerate(jobs):
            folder = sweep_dir / name
            lock = claim(folder) if locking else Unlocked()
            if lock is None and self.wait_for_owners:
                log.info(f"Waiting for {owner(folder)} to finish training {name}.")
                lock = claim(folder, wait=True)
            if lock is None:
                left.setdefault(owner(folder), []).append(name)
                continue
            self._locks.append(lock)
            reason = conflict(folder, cfg, kind)
            if reason is not None:
                raise ConfigCompositionException(
                    f"{reason}. Grow a sweep with the command that started it (more seeds or "
                    "init methods), or give this one another hydra.sweep.dir."
                )
            owned.append(k)
        if left:
            runs = "; ".join(f"{', '.join(names)} ({who})" for who, names in left.items())
            count = sum(map(len, left.values()))
            log.info(f"Left {count} run(s) to the processes training them: {runs}")
        return owned
