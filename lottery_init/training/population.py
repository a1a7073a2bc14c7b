"""A population trained: members that differ only in init and seed, built as one stacked model
and trained by one Trainer, each member's files written as if it ran alone."""

import logging
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from lottery_init.config.paths import data_dir
from lottery_init.config.validate import validate
from lottery_init.devices import pin_precision, trainer_device
from lottery_init.models.initializers import InitMethod, initialize_member, reinitialize
from lottery_init.models.layers import activations_per_image
from lottery_init.pruning import MaskedTraining
from lottery_init.runs.layout import CHECKPOINTS
from lottery_init.runs.provenance import run_info
from lottery_init.runs.results import RunWriter, read_run_or_none
from lottery_init.training.checkpoints import (
    AtomicCheckpointIO,
    CheckpointCadence,
    Interrupted,
    cluster_environment,
)
from lottery_init.training.console import progress
from lottery_init.training.lightning_module import LotteryModule
from lottery_init.training.recorder import RunRecorder
from lottery_init.training.resume import finished, resume_point

log = logging.getLogger(__name__)


def build_population(
    cfgs: Sequence[DictConfig],
) -> tuple[pl.LightningDataModule, LotteryModule, MaskedTraining]:
    """The data, the stacked and initialized model, and the pruning schedule of a population."""
    cfg = cfgs[0]
    seeds = [c.seed for c in cfgs]
    model = instantiate(cfg.model, population=len(cfgs))
    datamodule = instantiate(
        cfg.data,
        seeds=seeds,
        data_dir=data_dir(cfg.data.data_dir),
        activations=activations_per_image(model, cfg.data.shape),
    )
    methods = [InitMethod(**OmegaConf.to_container(c.init, resolve=True)) for c in cfgs]
    for member, (method, seed) in enumerate(zip(methods, seeds, strict=True)):
        initialize_member(model, member, method, seed)
    reinit = partial(reinitialize, model, methods, seeds)
    pruning = instantiate(cfg.prune, seeds=seeds, reinit=reinit)
    return datamodule, LotteryModule(model, lr=cfg.lr), pruning


def _writers(
    cfgs: Sequence[DictConfig],
    run_dirs: Sequence[Path],
    checkpoint_dir: Path,
    start: int,
    device: str,
) -> list[RunWriter]:
    """Each member's run files, resumed after `start` epochs, with its population and device."""
    runs = {"runs": [Path(d).name for d in run_dirs], "checkpoint_dir": str(checkpoint_dir)}
    runs["size"] = len(cfgs)
    return [
        RunWriter(d, run_info(c, runs | {"member": p}, device), start, bool(c.data.val_size))
        for p, (d, c) in enumerate(zip(run_dirs, cfgs, strict=True))
    ]


def train_population(
    cfgs: Sequence[DictConfig],
    run_dirs: Sequence[Path],
    checkpoint_dir: Path | None = None,
    callbacks: Sequence[pl.Callback] = (),
    **trainer_kwargs: Any,
) -> list[dict]:
    """Train members that differ only in init and seed as one stacked population.

    The population's checkpoint goes to `checkpoint_dir` (default: the first run's
    `checkpoints/`); training resumes from it when it exists, and runs that are already finished
    are not trained again. `callbacks` and `trainer_kwargs` are added to the configured Trainer.
    The process-wide settings are the entry point's (`process.prepare_training_process`).
    """
    validate(cfgs)
    previous = [read_run_or_none(d) for d in run_dirs]
    if all(finished(info) for info in previous):
        log.info(f"Already finished, not trained again: {', '.join(map(str, run_dirs))}")
        return previous
    pin_precision(cfgs[0].tf32)
    datamodule, module, pruning = build_population(cfgs)
    checkpoint_dir = Path(checkpoint_dir or Path(run_dirs[0]) / CHECKPOINTS)
    ckpt, start = resume_point(checkpoint_dir)
    if ckpt is not None:
        log.info(f"Resuming from {ckpt} after {start} epochs.")
    device = trainer_device(
        trainer_kwargs.get("accelerator", cfgs[0].trainer.accelerator),
        trainer_kwargs.get("devices", cfgs[0].trainer.get("devices", 1)),
    )
    writers = _writers(cfgs, run_dirs, checkpoint_dir, start, device)
    # Callbacks run in this order: the checkpoint follows the epoch's rows, so a resumed run
    # never misses a row (rows after its checkpoint are dropped on resume).
    checkpoint = CheckpointCadence(checkpoint_dir, cfgs[0].checkpoint.every_seconds)
    callbacks = [pruning, RunRecorder(writers, pruning, datamodule.record), checkpoint, *callbacks]
    if trainer_kwargs.get("enable_progress_bar", cfgs[0].trainer.get("enable_progress_bar", True)):
        shown = progress(lambda: pruning.kept)
        callbacks.append(shown)
        trainer_kwargs["enable_progress_bar"] = isinstance(shown, pl.callbacks.ProgressBar)
    trainer = instantiate(
        cfgs[0].trainer,
        callbacks=callbacks,
        default_root_dir=run_dirs[0],
        plugins=[AtomicCheckpointIO(), cluster_environment()],
        **trainer_kwargs,
    )
    trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt, weights_only=True)
    if checkpoint.stopped_by is not None:
        raise Interrupted(checkpoint.stopped_by)
    return [w.info for w in writers]


def train(cfg: DictConfig, run_dir: Path) -> dict:
    """Train one run (a population of one) into `run_dir`; return its `run.json` content."""
    return train_population([cfg], [run_dir])[0]
