"""`hydra/launcher=population`: a sweep's jobs trained as stacked populations."""

import copy
import logging
from collections.abc import Sequence
from pathlib import Path

from hydra.core.utils import (
    JobReturn,
    JobStatus,
    configure_log,
    filter_overrides,
    run_job,
    setup_globals,
)
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict

from lottery_init.config import validate
from lottery_init.population import (
    CPU_POPULATION,
    Population,
    pack,
    train_populations,
    visible_devices,
)

log = logging.getLogger(__name__)


def _resolved(task_cfg: DictConfig) -> DictConfig:
    """A job's run config, resolved while Hydra holds that job's config (for the init name)."""
    cfg = copy.deepcopy(task_cfg)
    OmegaConf.resolve(cfg)
    validate([cfg])
    return cfg


class PopulationLauncher(Launcher):
    """Packs jobs whose configs differ only in init and seed into populations of at most
    `max_population`, and trains them one process per device (`devices`, default: every
    visible GPU, else the CPU). Each job keeps the folder and files a basic-launcher job gets."""

    def __init__(
        self, max_population: int | None = None, devices: Sequence[str] | None = None
    ) -> None:
        if max_population is not None and max_population < 1:
            raise ValueError(f"max_population must be at least 1, got {max_population}.")
        self.max_population, self.devices = max_population, devices
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        # The task function is not called: jobs train together through `train_population`.
        self.config, self.hydra_context = config, hydra_context

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Prepare every job's folder, then train the jobs population by population."""
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        jobs = [self._prepare(list(o), initial_job_idx + i) for i, o in enumerate(job_overrides)]
        devices = visible_devices(self.devices)
        cap = self.max_population or (CPU_POPULATION if devices[0] == "cpu" else None)
        groups = pack([job.return_value for job in jobs], cap, len(devices))
        log.info(
            f"Training {len(jobs)} jobs as {len(groups)} population(s) on {', '.join(devices)}"
        )
        populations = [
            self._population(jobs, group, k, len(groups)) for k, group in enumerate(groups)
        ]
        for group, outcome in zip(groups, train_populations(populations, devices), strict=True):
            for member, index in enumerate(group):
                failed = isinstance(outcome, Exception)
                jobs[index].status = JobStatus.FAILED if failed else JobStatus.COMPLETED
                jobs[index].return_value = outcome if failed else outcome[member]
        return jobs

    def _prepare(self, overrides: list[str], index: int) -> JobReturn:
        """Hydra's own job setup (folder, `.hydra/`), returning the job's resolved run config."""
        log.info(f"\t#{index} : {' '.join(filter_overrides(overrides))}")
        sweep_config = self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
        with open_dict(sweep_config):
            sweep_config.hydra.job.id = index
            sweep_config.hydra.job.num = index
        job = run_job(
            hydra_context=self.hydra_context,
            task_function=_resolved,
            config=sweep_config,
            job_dir_key="hydra.sweep.dir",
            job_subdir_key="hydra.sweep.subdir",
            configure_logging=False,
        )
        job.return_value  # noqa: B018 (raises a bad job's config error before any training)
        return job

    def _population(self, jobs: list[JobReturn], group: list[int], k: int, n: int) -> Population:
        """The jobs of `group` as population `k` of `n`; its checkpoint goes to `populations/k`."""
        hydra_cfgs = [jobs[i].hydra_cfg.hydra for i in group]
        run_dirs = [Path(h.runtime.output_dir) for h in hydra_cfgs]
        return Population(
            label=f"population {k + 1}/{n}",
            cfgs=[jobs[i].return_value for i in group],
            run_dirs=run_dirs,
            log_files=[d / f"{h.job.name}.log" for d, h in zip(run_dirs, hydra_cfgs, strict=True)],
            checkpoint_dir=Path(str(self.config.hydra.sweep.dir)) / "populations" / str(k),
        )
