"""Pruning at initialization against IMP: accuracy at equal fractions of weights remaining, per
method and init method, with paired tests per fraction ("Making Networks Prune-Ready", Wijnja,
Wierstra, Hamburger 2020, Further Research: more pruning methods)."""

import dataclasses
import functools
import json
from dataclasses import dataclass
from typing import Any

from omegaconf import OmegaConf

from lottery_init.config.paths import ROOT
from lottery_init.report.rates import at_fraction
from lottery_init.report.read.sweep import Run

# A method's own scoring settings; the report names a method by those its run changed.
SCORING = ("images", "images_per_class", "temperature", "iterations")
# What a one-shot method sets in its run's config; the rest of the setting (epochs and scope
# included) groups the runs compared with each other.
ONE_SHOT_KEYS = ("prune.remaining", "prune.method", *(f"prune.{k}" for k in SCORING))
# What any pruning schedule sets, with the Trainer's epochs that `epochs` derives: the rest must
# match for a one-shot run and an IMP run to compare.
SCHEDULE_PREFIXES = ("prune.", "epochs", "trainer.max_epochs")
IMP = "IMP"
STUDY_SCHEDULE = {"rate": 0.2, "every_n_epochs": 5, "layer_rates": None}
# The scope a run's prune config means where it names none: its kind's default file's.
DEFAULT_SCOPE = {"one_shot": "global", "iterative": "layer"}


@dataclass(frozen=True)
class Method:
    """A way to find the mask (`snip`, ..., or `IMP`), its control (`shuffled`, `reinit`,
    IMP's `random`; "" for none) and the init method it starts from."""

    name: str
    control: str
    init: str

    @property
    def label(self) -> str:
        """The method and its control, e.g. `snip, shuffled`."""
        return f"{self.name}, {self.control}" if self.control else self.name


# Per method: by fraction, by seed, the test accuracy.
Accuracies = dict[Method, dict[float, dict[int, float]]]


def is_one_shot(run: Run) -> bool:
    """Whether the run pruned once at initialization (its prune config keeps a `remaining`)."""
    return "remaining" in run.config.get("prune", {})


def _without(run: Run, drop: tuple[str, ...]) -> str:
    keys = json.loads(run.setting)
    return json.dumps({k: v for k, v in keys.items() if not k.startswith(drop)}, sort_keys=True)


def group_of(run: Run) -> str:
    """A one-shot run's setting without what its method and fraction set: the runs compared."""
    return _without(run, ONE_SHOT_KEYS)


def base_of(run: Run) -> str:
    """The run's setting without its pruning schedule and epochs: a one-shot run's IMP runs
    share it."""
    return _without(run, SCHEDULE_PREFIXES)


def scope_of(run: Run) -> str:
    """Whether the run's masks rank each layer on its own (`layer`) or all together (`global`)."""
    kind = "one_shot" if is_one_shot(run) else "iterative"
    return run.config.get("prune", {}).get("scope", DEFAULT_SCOPE[kind])


def reference(scope: str) -> str:
    """The name of IMP on the study's rate and interval at `scope`: what a mask of that scope is
    compared with (`IMP`, per layer as in the study, or `IMP, global`)."""
    return IMP if scope == "layer" else f"{IMP}, {scope}"


def _imp_name(run: Run) -> str:
    """`IMP` for the study's schedule, `IMP, global` for it at global scope, else its rate and
    interval, e.g. `IMP 0.4/2` or `IMP 0.4/2, global`."""
    prune = run.config.get("prune", {})
    if all(prune.get(k, v) == v for k, v in STUDY_SCHEDULE.items()):
        return reference(scope_of(run))
    name = f"{IMP} {prune.get('layer_rates') or prune.get('rate')}/{prune.get('every_n_epochs')}"
    return name + (", global" if scope_of(run) == "global" else "")


@functools.cache
def _file_settings(method: str) -> dict[str, Any]:
    """The scoring settings `conf/prune/<method>.yaml` states itself (its base file states none;
    read as a file, not composed, so that it works inside a running Hydra app too)."""
    path = ROOT / "conf" / "prune" / f"{method}.yaml"
    stated = OmegaConf.to_container(OmegaConf.load(path)) if path.exists() else {}
    return {k: stated.get(k) for k in SCORING}


def _one_shot_name(run: Run) -> str:
    """The method, with the scoring settings its run changed from its file's: `snip (images=10)`."""
    method, prune = run.arm.method, run.config["prune"]
    changed = [
        f"{k}={prune[k]:g}"
        for k in SCORING
        if prune.get(k) is not None and prune.get(k) != _file_settings(method).get(k)
    ]
    return f"{method} ({', '.join(changed)})" if changed else method


def method_of(run: Run) -> Method:
    """The run's method, control and init method (with its layer scales, if any)."""
    arm = run.arm
    init = dataclasses.replace(arm, method="magnitude", rewind="init", shuffle=False).label
    if is_one_shot(run):
        controls = (("shuffled", arm.shuffle), ("reinit", arm.rewind == "reinit"))
        return Method(_one_shot_name(run), ", ".join(c for c, on in controls if on), init)
    return Method(_imp_name(run), dataclasses.replace(arm, layer_scales=None).variant, init)


def accuracies(one_shot: list[Run], iterative: list[Run]) -> tuple[Accuracies, list[str]]:
    """Each one-shot run's final test accuracy at its `prune.remaining`, and each IMP run's
    round-end accuracy at those fractions (`rates.at_fraction`: interpolated in log(remaining)
    between the rounds that bracket it); and the runs left out, with why (repeats of a method,
    fraction and seed count once, the first; runs without a finished round are not counted)."""
    found: Accuracies = {}
    left: list[str] = []
    for run in one_shot:
        fraction = float(run.config["prune"]["remaining"])
        by_seed = found.setdefault(method_of(run), {}).setdefault(fraction, {})
        if run.status == "failed":
            left.append(f"{run.dir.name}: failed: {run.reason or 'no reason recorded'}")
        elif not run.rounds:
            left.append(f"{run.dir.name}: no finished round yet")
        elif run.seed in by_seed:
            left.append(f"{run.dir.name}: repeat, not used")
        else:
            by_seed[run.seed] = run.rounds[-1]["test_acc"]
    # IMP is read at the fractions some one-shot run has finished at.
    fractions = sorted({f for by_f in found.values() for f, by_seed in by_f.items() if by_seed})
    for run in (r for r in iterative if len(r.rounds) > 1):
        by_fraction = found.setdefault(method_of(run), {})
        for fraction in fractions:
            acc = at_fraction(run.rounds, fraction)
            if acc is not None:
                by_fraction.setdefault(fraction, {}).setdefault(run.seed, acc)
    kept = {m: {f: s for f, s in by_f.items() if s} for m, by_f in found.items()}
    return {m: by_f for m, by_f in kept.items() if by_f}, left
