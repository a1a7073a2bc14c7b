"""Where a sweep's populations train and how many members one may hold: the one kind of device
its trainer config asks for, the local devices or submitit jobs that take the populations, and
the members that fit in the memory a GPU has free."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lottery_init.devices import free_bytes_per_worker, local_devices, local_gpus, sweep_device_kind
from lottery_init.sweep.packing import CPU_POPULATION, MemoryFit


@dataclass(frozen=True)
class Placement:
    """A sweep's kind of device (`cpu` or `cuda`), where its populations train (local devices,
    or the submitit jobs in words), how many train at once, and the most members of one."""

    kind: str
    devices: list[str]
    parallel: int
    cap: int


def place(
    launcher: Mapping[str, Any],
    accelerators: Collection[str],
    max_population: int | None,
    fit: MemoryFit,
) -> Placement:
    """The placement of a sweep whose jobs ask for `accelerators`, by the population
    launcher's settings (`executor`, `devices`, `slurm`); a ValueError says what cannot be."""
    kinds = {sweep_device_kind(launcher, accelerator) for accelerator in accelerators}
    if len(kinds) > 1:
        raise ValueError(f"a sweep trains on one kind of device; its jobs ask for {kinds}.")
    [kind] = kinds
    executor, slurm = launcher["executor"], launcher["slurm"]
    if executor == "local":
        devices = local_devices(launcher["devices"], next(iter(accelerators)))
        parallel = len(devices)
    else:
        check_jobs(executor, slurm, kind)
        devices = [f"one {'GPU' if kind == 'cuda' else 'CPU'} per {executor} job"]
        local = executor == "submitit_local" and kind == "cuda"
        parallel = len(local_gpus()) // slurm["gpus_per_node"] if local else 1
    if max_population is None:
        max_population = capacity(kind, executor, devices, slurm, fit)
    return Placement(kind, devices, max(1, parallel), max_population)


def check_jobs(executor: str, slurm: Mapping[str, Any], kind: str) -> None:
    """Refuse submitit jobs that cannot train as configured."""
    gpus = slurm["gpus_per_node"]
    if kind == "cpu" and gpus:
        raise ValueError("trainer=cpu needs hydra.launcher.slurm.gpus_per_node=0.")
    if executor == "submitit_local" and len(local_gpus()) < gpus:
        raise ValueError(
            f"a submitit_local job asks for {gpus} GPU(s) and this machine shows "
            f"{len(local_gpus())}; set hydra.launcher.slurm.gpus_per_node."
        )


def capacity(
    kind: str, executor: str, devices: Sequence[str], slurm: Mapping[str, Any], fit: MemoryFit
) -> int:
    """The most members of a population: on the CPU, CPU_POPULATION; on GPUs, as many as fit
    in the memory free for each local worker or local job, or in `slurm.gpu_memory_gib` (a
    Slurm job's GPU, which the login node cannot see)."""
    if kind == "cpu":
        return CPU_POPULATION
    if executor == "local":
        return fit.members(free_bytes_per_worker(devices))
    if executor == "submitit_local":
        return fit.members(free_bytes_per_worker([f"cuda:{i}" for i in range(len(local_gpus()))]))
    return fit.members(slurm["gpu_memory_gib"] * 2**30)
