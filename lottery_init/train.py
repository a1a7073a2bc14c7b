"""`python -m lottery_init.train`: the Hydra entry point over a plain, testable `train`."""

import logging
import platform
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.errors import ConfigCompositionException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from lottery_init.checkpoints import AtomicCheckpointIO, CheckpointCadence, Interrupted
from lottery_init.config import ROOT, data_dir, validate
from lottery_init.console import progress
from lottery_init.devices import device_record, pin_precision, trainer_device
from lottery_init.initializers import InitMethod, initialize_member, reinitialize
from lottery_init.models.layers import activations_per_image
from lottery_init.module import LotteryModule
from lottery_init.ownership import own_run
from lottery_init.process import prepare_training_process
from lottery_init.pruning import MaskedTraining
from lottery_init.recorder import RunRecorder
from lottery_init.results import RunWriter, read_run_or_none
from lottery_init.resume import finished, git_commit, resume_point

log = logging.getLogger(__name__)


def run_info(cfg: DictConfig, population: dict[str, Any], device: str) -> dict[str, Any]:
    """A member's identity, population, device and environment for its `run.json`."""
    return {
        "init": cfg.init.name,
        "seed": cfg.seed,
        "population": population,
        "device": device_record(device),
        "config": OmegaConf.to_container(cfg, resolve=True),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "pytorch_lightning": pl.__version__,
            "hydra": hydra.__version__,
        },
        "git": git_commit(ROOT),
    }


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
    checkpoint_dir = Path(checkpoint_dir or Path(run_dirs[0]) / "checkpoints")
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
        plugins=[AtomicCheckpointIO()],
        **trainer_kwargs,
    )
    trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt, weights_only=True)
    if checkpoint.stopped_by is not None:
        raise Interrupted(checkpoint.stopped_by)
    return [w.info for w in writers]


def train(cfg: DictConfig, run_dir: Path) -> dict:
    """Train one run (a population of one) into `run_dir`; return its `run.json` content."""
    return train_population([cfg], [run_dir])[0]


def round_table(info: dict) -> str:
    """Test accuracy at the end of each round against weights remaining, as text."""
    lines = ["round  remaining  test_acc"]
    lines += [
        f"{r['round']:>5}  {r['remaining']:>8.2%}  {r['test_acc']:>8.2%}" for r in info["rounds"]
    ]
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> None:
    """Train the configured run into Hydra's output folder and print its round table."""
    prepare_training_process()
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        validate([cfg])
        lock = own_run(run_dir, cfg)
    except ValueError as error:
        # Hydra prints a composition error as its one sentence, without a traceback.
        raise ConfigCompositionException(str(error)) from None
    try:
        info = train(cfg, run_dir)
    finally:
        lock.release()
    print(f"\n{round_table(info)}\n\nrun folder: {run_dir}")


if __name__ == "__main__":
    main()
