"""`hydra/sweeper=checked`: Hydra's basic sweeper, checking every job before any job runs and
naming each job's folder by what the job is."""

from collections.abc import Sequence
from pathlib import Path

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.hydra_config import HydraConfig
from hydra.errors import ConfigCompositionException

from lottery_init.config import run_config, validate
from lottery_init.devices import sweep_device_kind
from lottery_init.jobs import conflict, job_name


class CheckedSweeper(BasicSweeper):
    """Composes and validates every job of a batch before the launcher starts the first one, so
    that a bad value in the last job of a sweep costs seconds, not the hours of the jobs before.
    Each job's folder is named by its init, seed and the overrides that set it apart
    (`jobs.job_name`), so a sweep grown in the same folder finds its finished runs again; a
    folder holding a run of another config stops the sweep before any training."""

    def get_job_batch(self) -> Sequence[Sequence[str]]:
        batch = super().get_job_batch()
        current = HydraConfig.instance().cfg
        try:
            names = [self._checked_name(list(overrides)) for overrides in batch]
        finally:
            HydraConfig.instance().cfg = current
        taken: dict[str, str] = {}
        for name, overrides in zip(names, batch, strict=True):
            job = " ".join(overrides)
            if name in taken:
                raise ConfigCompositionException(
                    f"jobs '{taken[name]}' and '{job}' would share the folder {name}."
                )
            taken[name] = job
        # A quoted value, so that Hydra takes the name as one string and not as a sweep.
        return [[*o, f"hydra.sweep.subdir='{n}'"] for o, n in zip(batch, names, strict=True)]

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Nothing left to check: `get_job_batch` composed and checked every job."""

    def _checked_name(self, overrides: list[str]) -> str:
        """The job's folder name, after checking its config and what its folder holds."""
        job = self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
        cfg = run_config(job)
        try:
            validate([cfg])
            kind = sweep_device_kind(job.hydra.launcher, cfg.trainer.accelerator)
        except ValueError as error:
            # Hydra prints a composition error as its message alone, with no traceback.
            raise ConfigCompositionException(f"{error} (job: {' '.join(overrides)})") from None
        name = job_name(overrides, job, self.config)
        reason = conflict(Path(str(self.config.hydra.sweep.dir)) / name, cfg, kind)
        if reason is not None:
            raise ConfigCompositionException(
                f"{reason}. Grow a sweep with the command that started it (more seeds or init "
                "methods), or give this one another hydra.sweep.dir."
            )
        return name
