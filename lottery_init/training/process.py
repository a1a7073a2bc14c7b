"""Process-wide settings of a process that trains, made once by its entry point: the command,
the population launcher, its worker processes and its cluster jobs (library code leaves them be)."""

import logging
import warnings

import torch

# Loggers through which Lightning announces devices, tips and why a fit stopped.
CHATTY = ("pytorch_lightning", "lightning_fabric", "lightning.pytorch", "lightning.fabric")
# Loggers whose info lines (progress, job states) are what their modules are for.
OUR_LINES = (
    "lottery_init.sweep.progress",
    "lottery_init.sweep.workers",
    "lottery_init.sweep.cluster",
)


def quiet_dependencies() -> None:
    """Hide Lightning's info lines (device banners, advertising tips, "fit stopped"), its hint to
    use `srun` and the deprecation warning Lightning 2.6 triggers in torch's pytree; other
    warnings and errors stay."""
    warnings.filterwarnings(
        "ignore",
        message=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
        category=FutureWarning,
    )
    # Lightning's advice to launch with `srun`, given wherever Slurm's client is installed
    # (every login node); a cluster sweep's jobs are launched by Slurm already.
    warnings.filterwarnings("ignore", message=r"The `srun` command is available on your system")
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)


def show_our_lines() -> None:
    """Let our progress and job-state lines pass whatever level the root logger has."""
    for name in OUR_LINES:
        logging.getLogger(name).setLevel(logging.INFO)


def prepare_training_process() -> None:
    """Set this process up to train: subnormal floats flushed, our lines shown, the
    dependencies' unasked ones hidden."""
    # Decaying values become subnormal floats, which the CPU handles many times slower.
    torch.set_flush_denormal(True)
    show_our_lines()
    quiet_dependencies()
