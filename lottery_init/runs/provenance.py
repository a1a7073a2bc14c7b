"""Where a run's numbers came from, for its `run.json`: its identity and config, the device and
its float32 maths, the library versions and the code's git commit."""

import platform
import subprocess
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf

from lottery_init.config.paths import ROOT


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


def device_record(device: str) -> dict[str, Any]:
    """What a run's `run.json` says of the device it trained on and of its float32 maths."""
    dev = torch.device(device)
    cuda = dev.type == "cuda"
    name = torch.cuda.get_device_name(dev) if cuda else f"{platform.machine()} CPU"
    return {
        "type": dev.type,
        "device": str(dev),
        "name": name,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "matmul_precision": torch.get_float32_matmul_precision(),
        "tf32": bool(torch.backends.cuda.matmul.allow_tf32 or torch.backends.cudnn.allow_tf32),
    }


def git_commit(folder: Path) -> dict[str, Any] | None:
    """The commit of the code in `folder` and whether it had uncommitted changes."""
    try:
        run = lambda *args: subprocess.run(  # noqa: E731
            ["git", *args], cwd=folder, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain"))}
    except (OSError, subprocess.SubprocessError):
        return None
