"""Reading a sweep: every run's `run.json` and `metrics.csv` under a folder, at any depth."""

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lottery_init.report.read.keys import Arm, arm_of, setting_of
from lottery_init.report.read.names import setting_names
from lottery_init.runs.layout import METRICS, RUN_JSON
from lottery_init.runs.results import read_metrics, read_run


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

    @functools.cached_property
    def arm(self) -> Arm:
        """The run's init method, scale, layer scales and pruning variant."""
        return arm_of(self.init, self.config)

    @functools.cached_property
    def setting(self) -> str:
        """Everything else that can change the run's numbers (`keys.setting_of`)."""
        return setting_of(self.config)

    @property
    def label(self) -> str:
        """The arm's label: init method (with its scale where no init file states it), plus the
        control or protocol variant when the run is one."""
        return self.arm.label


@dataclass
class Sweep:
    """The runs a report uses, grouped by init method, and the ones it leaves out, with why."""

    usable: dict[str, list[Run]]  # by label: init method, plus variant if any
    left_out: list[tuple[str, int, str]]
    running: list[Run]
    arms: dict[str, Arm] = field(default_factory=dict)  # by label


def read_runs(folder: str | Path) -> list[Run]:
    """Every run under `folder` (any depth, any launcher), sorted by init, seed and folder."""
    runs = []
    for path in Path(folder).rglob(RUN_JSON):
        info = read_run(path.parent)
        has_metrics = (path.parent / METRICS).exists()
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


def load_sweep(folder: str | Path, setting: str | None = None) -> Sweep:
    """The sweep under `folder` (its runs of `setting`, when given; see `sweep_of`); refused
    where the folder holds several settings and none is given."""
    runs = read_runs(folder)
    settings = sorted({r.setting for r in runs})
    if setting is None and len(settings) > 1:
        names = "; ".join(setting_names(settings).values())
        raise ValueError(
            f"{folder} holds runs of several settings ({names}), which no mean may mix; "
            "load one setting's runs at a time (load_sweep(folder, setting))."
        )
    return sweep_of([r for r in runs if setting is None or r.setting == setting])


def sweep_of(runs: list[Run]) -> Sweep:
    """Runs of one setting as a sweep: failed runs, repeats and missing arm × seed pairs are
    left out and listed; unfinished runs count with the rounds they have completed."""
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
    arms = {label: group[0].arm for label, group in usable.items()}
    return Sweep(usable, sorted(left_out), running, arms)
