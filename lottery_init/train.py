"""`python -m lottery_init.train`: the Hydra entry point over a plain, testable `train`."""

import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
import torch
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import ModelCheckpoint

from lottery_init.initializers import InitMethod, initialize_member
from lottery_init.module import LotteryModule
from lottery_init.pruning import SCOPES
from lottery_init.results import RunRecorder, RunWriter

ROOT = Path(__file__).resolve().parents[1]
MEMBER_KEYS = ("init", "seed")


def compose(overrides: Sequence[str] = ()) -> DictConfig:
    """The resolved run config for command-line `overrides`, without Hydra (tests, notebooks)."""
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = hydra_compose("train", overrides=list(overrides), return_hydra_config=True)
    return run_config(cfg)


def run_config(cfg: DictConfig) -> DictConfig:
    """The resolved run part of a full config (one with its `hydra` node)."""
    # The init name interpolates Hydra's choices, so resolve while this config is current.
    HydraConfig.instance().set_config(cfg)
    run_cfg = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    OmegaConf.resolve(run_cfg)
    return run_cfg


def validate(cfgs: Sequence[DictConfig]) -> None:
    """Stop before any work, with one sentence, on a config the study cannot run."""
    for cfg in cfgs:
        InitMethod(**cfg.init)
        if not 0 < cfg.prune.rate < 1:
            raise ValueError(f"prune.rate must lie in (0, 1), got {cfg.prune.rate}.")
        if cfg.prune.scope not in SCOPES:
            raise ValueError(f"prune.scope must be one of {SCOPES}, got {cfg.prune.scope!r}.")
        if cfg.epochs < 1 or cfg.prune.every_n_epochs < 1 or cfg.epochs % cfg.prune.every_n_epochs:
            raise ValueError(
                f"epochs ({cfg.epochs}) must be a positive multiple of "
                f"prune.every_n_epochs ({cfg.prune.every_n_epochs})."
            )
        if cfg.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {cfg.seed}.")
    shared = [without_members(cfg) for cfg in cfgs]
    if any(s != shared[0] for s in shared):
        raise ValueError("population members may differ only in init and seed.")


def without_members(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config minus the per-member fields (and Hydra's own node)."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    return {k: v for k, v in plain.items() if k not in (*MEMBER_KEYS, "hydra")}


def run_info(cfg: DictConfig, population: dict[str, Any]) -> dict[str, Any]:
    """A member's identity, population and environment for its `run.json`."""
    return {
        "init": cfg.init.name,
        "seed": cfg.seed,
        "population": population,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "pytorch_lightning": pl.__version__,
            "hydra": hydra.__version__,
        },
    }


def data_dir(path: str) -> Path:
    """A configured data folder; relative paths start at the repository root."""
    return Path(path) if Path(path).is_absolute() else ROOT / path


def train_population(
    cfgs: Sequence[DictConfig],
    run_dirs: Sequence[Path],
    checkpoint_dir: Path | None = None,
    callbacks: Sequence[pl.Callback] = (),
    **trainer_kwargs: Any,
) -> list[dict]:
    """Train members that differ only in init and seed as one stacked population.

    The population's checkpoint goes to `checkpoint_dir` (default: the first run's
    `checkpoints/`); `callbacks` and `trainer_kwargs` are added to the configured Trainer.
    """
    validate(cfgs)
    cfg, population = cfgs[0], len(cfgs)
    # Decaying values become subnormal floats, which the CPU handles many times slower.
    torch.set_flush_denormal(True)
    seeds = [c.seed for c in cfgs]
    datamodule = instantiate(cfg.data, seeds=seeds, data_dir=data_dir(cfg.data.data_dir))
    model = instantiate(cfg.model, population=population)
    for member, c in enumerate(cfgs):
        init = OmegaConf.to_container(c.init, resolve=True)
        initialize_member(model, member, InitMethod(**init), c.seed)
    pruning = instantiate(cfg.prune)
    checkpoint_dir = Path(checkpoint_dir or Path(run_dirs[0]) / "checkpoints")
    runs = {"runs": [Path(d).name for d in run_dirs], "checkpoint_dir": str(checkpoint_dir)}
    writers = [
        RunWriter(d, run_info(c, runs | {"member": p}))
        for p, (d, c) in enumerate(zip(run_dirs, cfgs, strict=True))
    ]
    checkpoint = ModelCheckpoint(
        dirpath=checkpoint_dir,
        save_top_k=0,
        save_last=True,
        save_on_train_epoch_end=True,
    )
    callbacks = [pruning, RunRecorder(writers, pruning), checkpoint, *callbacks]
    trainer = instantiate(
        cfg.trainer, callbacks=callbacks, default_root_dir=run_dirs[0], **trainer_kwargs
    )
    trainer.fit(LotteryModule(model, lr=cfg.lr), datamodule=datamodule)
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
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    info = train(cfg, run_dir)
    print(f"\n{round_table(info)}\n\nrun folder: {run_dir}")


if __name__ == "__main__":
    main()
