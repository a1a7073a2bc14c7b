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
from hydra.errors import CompactHydraException
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict

from lottery_init.config.validate import validate
from lottery_init.runs.layout import POPULATIONS, SUBMITIT
from lottery_init.sweep.cluster.running import train_as_jobs
from lottery_init.sweep.failures import sweep_failed
from lottery_init.sweep.packing import MemoryFit, pack
from lottery_init.sweep.placement import Placement, place
from lottery_init.sweep.state import sweep_state
from lottery_init.sweep.workers import Population, train_populations
from lottery_init.training.process import prepare_training_process

log = logging.getLogger(__name__)
EXECUTORS = ("local", "submitit_local", "slurm")


def _resolved(task_cfg: DictConfig) -> DictConfig:
    """A job's run config, resolved while Hydra holds that job's config (for the init name)."""
    cfg = copy.deepcopy(task_cfg)
    OmegaConf.resolve(cfg)
    validate([cfg])
    return cfg


def _settled(
    jobs: list[JobReturn],
    groups: list[list[int]],
    populations: list[Population],
    outcomes: list[list[dict] | Exception],
) -> list[JobReturn]:
    """`jobs` with each population's outcome: its members' run infos, or for every job of a
    failed population the one line that ends the multirun, naming every failure."""
    failures = [
        (p.label, o) for p, o in zip(populations, outcomes, strict=True) if isinstance(o, Exception)
    ]
    ending = sweep_failed(failures, len(populations)) if failures else None
    for group, outcome in zip(groups, outcomes, strict=True):
        for member, index in enumerate(group):
            failed = isinstance(outcome, Exception)
            jobs[index].status = JobStatus.FAILED if failed else JobStatus.COMPLETED
            jobs[index].return_value = ending if failed else outcome[member]
    return jobs


class PopulationLauncher(Launcher):
    """Packs jobs whose configs differ only in init and seed into populations of at most
    `max_population` (default: as many as fit in a GPU's memory), and trains them here, one
    process per device (`executor=local`), or each as a submitit job (`slurm`,
    `submitit_local`). Each job keeps the folder and files a basic-launcher job gets."""

    def __init__(
        self,
        executor: str = "local",
        max_population: int | None = None,
        member_mib: float | None = None,
        memory_margin: float = 0.25,
        devices: Sequence[str] | None = None,
        submitit_folder: str = SUBMITIT,
        slurm: DictConfig | None = None,
    ) -> None:
        if max_population is not None and max_population < 1:
            raise ValueError(f"max_population must be at least 1, got {max_population}.")
        if executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor}.")
        if devices and executor != "local":
            raise ValueError(f"devices is for executor=local; a {executor} job uses its own GPU.")
        self.executor, self.max_population, self.devices = executor, max_population, devices
        # As configured; `fit` is this launch's, its member size estimated from its own jobs.
        self.memory = MemoryFit(member_mib, memory_margin)
        self.fit = self.memory
        self.submitit_folder, self.slurm = submitit_folder, slurm
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
        if not job_overrides:
            return []  # every job's folder is trained by another process
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        # With one local device the populations train in this process, so it is set up to train.
        prepare_training_process()
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        jobs = [self._prepare(list(o), initial_job_idx + i) for i, o in enumerate(job_overrides)]
        cfgs = [job.return_value for job in jobs]
        run_dirs = [Path(job.hydra_cfg.hydra.runtime.output_dir) for job in jobs]
        done, resumed, fresh = sweep_state(run_dirs)
        for index, info in done.items():
            jobs[index].status = JobStatus.COMPLETED
            jobs[index].return_value = info
        placement = self._place(cfgs)
        packed = pack([cfgs[i] for i in fresh], placement.cap, placement.parallel)
        groups = resumed + [([fresh[j] for j in group], None) for group in packed]
        where = ", ".join(placement.devices)
        log.info(
            f"{len(done)} jobs already finished, {len(resumed)} population(s) to resume, "
            f"{len(fresh)} jobs to train as {len(packed)} population(s), on {where}"
        )
        populations = [
            self._population(jobs, cfgs, g, (k, len(groups)), c) for k, (g, c) in enumerate(groups)
        ]
        outcomes = self._train(populations, placement.devices)
        return _settled(jobs, [g for g, _ in groups], populations, outcomes)

    def _place(self, cfgs: list[DictConfig]) -> Placement:
        """Where the sweep's populations train and how many members one may hold."""
        launcher = {"executor": self.executor, "devices": self.devices, "slurm": self.slurm}
        accelerators = {str(cfg.trainer.accelerator) for cfg in cfgs}
        # Where no member size is set, the sweep's largest job gives it.
        self.fit = self.memory.for_jobs(cfgs)
        try:
            return place(launcher, accelerators, self.max_population, self.fit)
        except ValueError as error:
            # One sentence for the user, as for any config error, rather than a traceback.
            raise CompactHydraException(str(error)) from None

    def _train(self, populations: list[Population], devices: list[str]) -> list:
        """Each population's run infos, or the exception that stopped it."""
        if not populations:
            return []
        if self.executor == "local":
            return train_populations(populations, devices)
        return train_as_jobs(self.executor, populations, self.submitit_folder, self.slurm, self.fit)

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

    def _population(
        self,
        jobs: list[JobReturn],
        cfgs: list[DictConfig],
        group: list[int],
        place: tuple[int, int],
        checkpoint_dir: Path | None,
    ) -> Population:
        """The jobs of `group` as population `place` = (k, n), resuming from `checkpoint_dir` if
        given, else checkpointed in `populations/<first job>` of the sweep folder."""
        hydra_cfgs = [jobs[i].hydra_cfg.hydra for i in group]
        run_dirs = [Path(h.runtime.output_dir) for h in hydra_cfgs]
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        return Population(
            label=f"population {place[0] + 1}/{place[1]}",
            cfgs=[cfgs[i] for i in group],
            run_dirs=run_dirs,
            log_files=[d / f"{h.job.name}.log" for d, h in zip(run_dirs, hydra_cfgs, strict=True)],
            checkpoint_dir=checkpoint_dir or sweep_dir / POPULATIONS / run_dirs[0].name,
        )
