"""Reading a sweep: every run's `run.json` and `metrics.csv` under a folder, at any depth."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lottery_init.results import read_metrics, read_run

# What a run's model config meant before it named its class and its dataset's shape:
# LeNet-300-100 on MNIST.
MODEL_BEFORE = {
    "_target_": "lottery_init.models.LeNet",
    "input_shape": [1, 28, 28],
    "num_classes": 10,
    "hidden": [300, 100],
    "negative_slope": 0.05,
}


@dataclass
class Run:
    """One run as its files describe it."""

    dir: Path
    init: str
    seed: int
    status: str
    rounds: list[dict[str, Any]]
    metrics: list[dict[str, float]]
    config: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    @property
    def dataset(self) -> str:
        """The dataset's name (MNIST for runs recorded before the config named it)."""
        return self.config.get("data", {}).get("name", "mnist")

    @property
    def model(self) -> dict[str, Any]:
        """The model's config (LeNet-300-100 on MNIST where the run predates model settings)."""
        return MODEL_BEFORE | self.config.get("model", {})

    @property
    def label(self) -> str:
        """The init method, plus the control or protocol variant when the run is one."""
        return f"{self.init} ({variant(self.config)})" if variant(self.config) else self.init


def variant(config: dict[str, Any]) -> str:
    """What sets a run apart from the study's protocol: pruning method and rewind (e.g.
    "random"), and per-layer init scales (e.g. "layer scales 1.2027/1/1")."""
    prune = config.get("prune", {})
    parts = [prune["method"]] if prune.get("method", "magnitude") != "magnitude" else []
    scales = config.get("init", {}).get("layer_scales")
    if scales is not None:
        parts.append("layer scales " + "/".join(f"{s:g}" for s in scales))
    if prune.get("rewind", "init") == "reinit":
        parts.append("reinit")
    elif prune.get("rewind") == "epoch_k":
        parts.append(f"rewind to epoch {prune['rewind_epoch']}")
    return ", ".join(parts)


@dataclass
class Sweep:
    """The runs a report uses, grouped by init method, and the ones it leaves out, with why."""

    usable: dict[str, list[Run]]  # by label: init method, plus variant if any
    left_out: list[tuple[str, int, str]]
    running: list[Run]


def read_runs(folder: str | Path) -> list[Run]:
    """Every run under `folder` (any depth, any launcher), sorted by init, seed and folder."""
    runs = []
    for path in Path(folder).rglob("run.json"):
        info = read_run(path.parent)
        has_metrics = (path.parent / "metrics.csv").exists()
        runs.append(
            Run(
                dir=path.parent,
                init=info["init"],
                seed=int(info["seed"]),
                status=info["status"],
                rounds=info.get("rounds", []),
                metrics=read_metrics(path.parent) if has_metrics else [],
                config=info.get("config", {}),
                reason=info.get("reason"),
            )
        )
    return sorted(runs, key=lambda r: (r.label, r.seed, str(r.dir)))


def load_sweep(folder: str | Path, dataset: str | None = None) -> Sweep:
    """The sweep under `folder` (its runs of `dataset`, when given): failed runs, repeats and
    missing init × seed pairs are left out and listed; unfinished runs count with the rounds
    they have completed."""
    runs = read_runs(folder)
    datasets = sorted({r.dataset for r in runs})
    if dataset is None and len(datasets) > 1:
        raise ValueError(
            f"{folder} holds runs of {' and '.join(datasets)}, which no mean may mix; "
            "load one dataset's runs at a time (load_sweep(folder, dataset))."
        )
    runs = [r for r in runs if dataset is None or r.dataset == dataset]
    models = {json.dumps(r.model, sort_keys=True) for r in runs}
    if len(models) > 1:
        raise ValueError(
            f"{folder} holds runs of {len(models)} models, which no mean may mix (a report per "
            "setting is not written yet); report each model's runs from a folder of their own."
        )
    usable: dict[str, list[Run]] = {}
    left_out: list[tuple[str, int, str]] = []
    seen: set[tuple[str, int]] = set()
    for run in runs:
        key = (run.label, run.seed)
        if run.status == "failed":
            left_out.append((*key, f"failed: {run.reason or 'no reason recorded'}"))
        elif key in seen:
            left_out.append((*key, f"repeat, not used: {run.dir}"))
        else:
            seen.add(key)
            usable.setdefault(run.label, []).append(run)
    inits = sorted({r.label for r in runs})
    seeds = sorted({r.seed for r in runs})
    attempted = {(r.label, r.seed) for r in runs}
    left_out += [(i, s, "missing") for i in inits for s in seeds if (i, s) not in attempted]
    running = [r for group in usable.values() for r in group if r.status != "done"]
    return Sweep(usable, sorted(left_out), running)
