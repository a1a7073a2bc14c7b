"""A sweep job's folder: named by what the job is, and reused only by a job of the same config."""

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from lottery_init.runs.compat import flat, recorded
from lottery_init.runs.layout import UNSAFE
from lottery_init.runs.results import read_run_or_none


def job_name(overrides: Sequence[str], job: DictConfig, base: DictConfig) -> str:
    """`<init>_s<seed>`, then `_key=value` for each other override whose value differs from the
    sweep's base config: Hydra's `override_dirname`, without what every job shares, so the name
    stays when a sweep grows."""
    choices = job.hydra.runtime.choices
    parts = [f"{choices.init}_s{job.seed}"]
    for override in sorted(overrides):
        key, _, value = override.lstrip("+~").partition("=")
        if key not in ("init", "seed") and _differs(key, job, base):
            parts.append(UNSAFE.sub("-", f"{key}={value}"))
    return "_".join(parts)


def _differs(key: str, job: DictConfig, base: DictConfig) -> bool:
    """Whether the job's choice (config group) or value at `key` differs from the base's."""
    key = key.split("@")[0]
    if key in job.hydra.runtime.choices:
        return job.hydra.runtime.choices[key] != base.hydra.runtime.choices.get(key)
    return OmegaConf.select(job, key, default=None) != OmegaConf.select(base, key, default=None)


def conflict(run_dir: Path, run_cfg: DictConfig, device_kind: str | None = None) -> str | None:
    """Why the folder `run_dir` cannot take this job: it holds a run of another config (the
    keys that differ) or one trained on another kind of device than `device_kind` (`cpu`,
    `cuda`: kernels round differently); None when it is empty or holds this job's run."""
    info = read_run_or_none(run_dir)
    if info is None:
        return None
    # Runs written before run.json recorded its device say nothing, and are taken as they are.
    trained_on = info.get("device", {}).get("type")
    if device_kind is not None and trained_on not in (None, device_kind):
        return (
            f"{run_dir} holds a run trained on {trained_on} and this sweep trains on "
            f"{device_kind}, where its numbers would differ"
        )
    old = recorded(info["config"])
    new = flat(OmegaConf.to_container(run_cfg, resolve=True))
    # Shallow keys first: `data.name` says more than the dataset's file sums under it.
    differ = [k for k in old.keys() | new.keys() if old.get(k) != new.get(k)]
    keys = sorted(differ, key=lambda k: (k.count("."), k))
    if not keys:
        return None
    changes = ", ".join(f"{k}: {old.get(k)} there, {new.get(k)} now" for k in keys[:3])
    more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
    return f"{run_dir} holds a run of another config ({changes}{more})"
