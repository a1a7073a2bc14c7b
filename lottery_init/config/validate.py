"""Checking run configs: what the study cannot run is refused before any work, in one sentence."""

import functools
import json
from collections.abc import Sequence

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from lottery_init.config.compose import without_members
from lottery_init.data.datamodule import READERS
from lottery_init.devices import ACCELERATORS, FP32
from lottery_init.models import stacked_layers
from lottery_init.models.initializers import InitMethod
from lottery_init.pruning.checks import check_prune
from lottery_init.pruning.schedule import check_target


def validate(cfgs: Sequence[DictConfig]) -> None:
    """Stop before any work, with one sentence, on a config the study cannot run."""
    for cfg in cfgs:
        InitMethod(**cfg.init)
        layers = layer_count(cfg.model)
        scales = cfg.init.get("layer_scales")
        if scales is not None and len(scales) != layers:
            raise ValueError(
                f"init.layer_scales must hold {layers} multipliers, one per layer, "
                f"got {list(scales)}."
            )
        check_prune(cfg, layers)
        check_target(cfg)
        _check_trainer(cfg.trainer)
        if cfg.epochs < 1 or cfg.prune.every_n_epochs < 1 or cfg.epochs % cfg.prune.every_n_epochs:
            raise ValueError(
                f"epochs ({cfg.epochs}) must be a positive multiple of "
                f"prune.every_n_epochs ({cfg.prune.every_n_epochs})."
            )
        if cfg.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {cfg.seed}.")
        if cfg.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {cfg.batch_size}.")
        if not cfg.checkpoint.every_seconds >= 0:
            raise ValueError(
                f"checkpoint.every_seconds must be 0 or more, got {cfg.checkpoint.every_seconds}."
            )
        if not cfg.lr > 0:
            raise ValueError(f"lr must be positive, got {cfg.lr}.")
        for key in ("train_size", "test_size"):
            value = cfg.data[key]
            if value is not None and value < 1:
                raise ValueError(
                    f"data.{key} must be a positive number of images, or null for all; got {value}."
                )
        _check_data(cfg.data)
        n_train, n_val = cfg.data.train_size or cfg.data.sizes.train, cfg.data.val_size
        if n_val is not None and not 0 < n_val < n_train:
            raise ValueError(f"data.val_size must lie in (0, {n_train}), got {n_val}.")
    shared = [without_members(cfg) for cfg in cfgs]
    if any(s != shared[0] for s in shared):
        raise ValueError("population members may differ only in init and seed.")


def _check_data(data: DictConfig) -> None:
    """A dataset lottery_init can read, with one mean and std per channel."""
    if data.name not in READERS:
        raise ValueError(f"data.name must be one of {tuple(READERS)}, got {data.name!r}.")
    channels = data.shape[0]
    if len(data.mean) != channels or len(data.std) != channels:
        raise ValueError(
            f"data.mean and data.std must hold one value per channel ({channels}), "
            f"got {list(data.mean)} and {list(data.std)}."
        )


def _check_trainer(trainer: DictConfig) -> None:
    """The Trainer's device kind and precision: what lottery_init trains with."""
    accelerator = trainer.get("accelerator", "auto")
    if accelerator not in ACCELERATORS:
        raise ValueError(
            f"trainer.accelerator must be one of {tuple(ACCELERATORS)}, got {accelerator!r}."
        )
    if trainer.get("precision", 32) not in FP32:
        raise ValueError(
            f"trainer.precision must be 32 (full FP32), got {trainer.precision!r}: the optimizer "
            "steps are taken by hand and skip the gradient scaler mixed precision needs."
        )


@functools.cache
def _built_layers(model: str) -> int:
    """Prunable layers of the model a JSON model config builds (population 1)."""
    try:
        built = instantiate(json.loads(model), population=1)
    except InstantiationException as error:
        raise ValueError(f"model: {error.__cause__ or error}") from None
    return len(stacked_layers(built))


def layer_count(model: DictConfig) -> int:
    """The configured model's prunable layers, found by building it once (which also checks
    its settings, with the model's own sentence)."""
    return _built_layers(json.dumps(OmegaConf.to_container(model, resolve=True), sort_keys=True))
