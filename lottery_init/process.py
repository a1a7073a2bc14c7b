"""Process-wide settings of a process that trains, made once by its entry point: the command,
the population launcher, its worker processes and its cluster jobs (library code leaves them be)."""

import logging

import torch

from lottery_init.console import quiet_dependencies

# Loggers whose info lines (progress, job states) are what their modules are for.
OUR_LINES = ("lottery_init.console", "lottery_init.population", "lottery_init.cluster.running")


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
