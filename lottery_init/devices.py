"""Devices: the kind a run trains on (the trainer config decides), where a sweep's populations
go and the memory they find there, the GPUs local jobs may use, and float32 precision pinned."""

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import torch

# The Trainer accelerators lottery_init trains on, and the kind of device each asks for; None
# (auto) takes a GPU when one is visible, else the CPU.
ACCELERATORS: dict[str, str | None] = {"auto": None, "cpu": "cpu", "gpu": "cuda", "cuda": "cuda"}
# Trainer precisions that train in full FP32. Mixed precision would need the GradScaler, which
# the manual optimizer steps of `LotteryModule` skip.
FP32 = (32, "32", "32-true")


def device_kind(accelerator: str) -> str:
    """`cpu` or `cuda`, as `trainer.accelerator` asks; `auto` takes a GPU if one is visible."""
    kind = ACCELERATORS[accelerator]
    if kind is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    return kind


def local_devices(devices: Sequence[str] | None, accelerator: str) -> list[str]:
    """Where a sweep trains on this machine: the configured `devices`, else every visible GPU or
    else the CPU, as `trainer.accelerator` asks; always one kind of device."""
    wanted = ACCELERATORS[accelerator]
    if devices:
        kinds = {torch.device(d).type for d in devices}
        if len(kinds) > 1 or (wanted is not None and kinds != {wanted}):
            raise ValueError(
                f"hydra.launcher.devices {list(devices)} must be {wanted or 'of one kind'} "
                f"devices for trainer.accelerator={accelerator}: a sweep trains on one kind."
            )
        return list(devices)
    if device_kind(accelerator) == "cpu":
        return ["cpu"]
    if not torch.cuda.device_count():
        raise ValueError(
            f"trainer.accelerator={accelerator} asks for a GPU, but none is visible; "
            "use trainer=cpu."
        )
    return [f"cuda:{i}" for i in range(torch.cuda.device_count())]


def sweep_device_kind(launcher: Mapping[str, Any], accelerator: str) -> str:
    """The kind of device a sweep's jobs train on, from its launcher and trainer configs: the
    trainer's accelerator, the local devices, or the GPUs each cluster job asks for."""
    wanted = ACCELERATORS[accelerator]
    if wanted == "cpu":
        return "cpu"
    executor = launcher.get("executor")
    if executor == "local" and launcher.get("devices"):
        return local_devices(launcher["devices"], accelerator)[0].split(":")[0]
    # Cluster jobs, the population launcher's or Hydra's submitit launcher's, get what they ask.
    if executor in ("slurm", "submitit_local"):
        gpus = launcher["slurm"]["gpus_per_node"]
    else:
        gpus = launcher.get("gpus_per_node") if executor is None else None
    if gpus is not None:
        return "cuda" if gpus else "cpu"
    return device_kind(accelerator)


def trainer_device(accelerator: str, devices: Any = 1) -> str:
    """The device a Trainer with this `accelerator` and `devices` (a count or a list of GPU
    indices) trains on: `cpu`, or `cuda:<first index>`."""
    if device_kind(accelerator) == "cpu":
        return "cpu"
    first = devices[0] if isinstance(devices, Sequence) and not isinstance(devices, str) else 0
    return f"cuda:{first}"


def free_bytes_per_worker(devices: Sequence[str]) -> int:
    """The least GPU memory a worker finds free: each GPU's free memory shared by the workers
    that `devices` puts on it (`[cuda:0, cuda:0]`: two workers on GPU 0)."""
    workers = Counter(str(torch.device(d)) for d in devices)
    return min(torch.cuda.mem_get_info(torch.device(d))[0] // n for d, n in workers.items())


def pin_precision(tf32: bool) -> None:
    """Float32 matrix products and convolutions in full FP32, or in TF32 when `tf32`, whatever
    the environment (`TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1`) or an earlier call chose. TF32
    rounds products to 10 mantissa bits and moves weights near the pruning cut."""
    torch.set_float32_matmul_precision("high" if tf32 else "highest")
    torch.backends.cudnn.allow_tf32 = tf32


def local_gpus() -> list[int]:
    """The GPUs of this machine that local jobs may use, as the machine's CUDA indices (the
    entries of CUDA_VISIBLE_DEVICES, where it is set)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return list(range(torch.cuda.device_count()))
    entries = [entry.strip() for entry in visible.split(",") if entry.strip()]
    if not all(entry.isdigit() for entry in entries):
        raise ValueError(
            f"submitit_local jobs need CUDA_VISIBLE_DEVICES to list GPU indices, got {visible!r}."
        )
    return [int(entry) for entry in entries]
