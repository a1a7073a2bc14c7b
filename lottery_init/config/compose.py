"""Composing run configs without Hydra's command line: the resolved run part of a config, and
what population members share."""

from collections.abc import Sequence
from typing import Any

from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from lottery_init.config import schema  # noqa: F401 (registers `train_schema` with Hydra)
from lottery_init.config.paths import ROOT

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


def without_members(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config minus the per-member fields (and Hydra's own node)."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    return {k: v for k, v in plain.items() if k not in (*MEMBER_KEYS, "hydra")}
