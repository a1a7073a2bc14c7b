"""Pruning at initialization against IMP: accuracy at equal fractions of weights remaining, per
method and init method, with paired tests per fraction ("Making Networks Prune-Ready", Wijnja,
Wierstra, Hamburger 2020, Further Research: more pruning methods)."""

import json
from dataclasses import dataclass
from itertools import combinations

from lottery_init.report.rates import at_fraction
from lottery_init.report.stats import Comparison, compare, holm
from lottery_init.report.sweep import Run

# A run's setting minus what sets a schedule apart: the rest must match for runs to compare.
SCHEDULE_PREFIXES = ("prune.", "epochs")
IMP = "IMP"


@dataclass(frozen=True)
class Method:
    """A way to find the mask (`snip`, ..., or `IMP`), its control (`shuffled`, `reinit`,
    IMP's `random`; "" for none) and the init method it starts from."""

    name: str
    control: str
    init: str

    @property
    def label(self) -> str:
        return f"{self.name}, {self.control}" if self.control else self.name


# Per method: by fraction, by seed, the test accuracy.
Accuracies = dict[Method, dict[float, dict[int, float]]]


def is_one_shot(run: Run) -> bool:
    """Whether the run pruned once at initialization (its prune config keeps a `remaining`)."""
    return "remaining" in run.config.get("prune", {})


def rest_of(run: Run) -> str:
    """The run's setting without its pruning schedule: runs that share it are compared."""
    keys = json.loads(run.setting)
    return json.dumps({k: v for k, v in keys.items() if not k.startswith(SCHEDULE_PREFIXES)})


def method_of(run: Run) -> Method:
    """The run's method, control and init method."""
    arm = run.arm
    if is_one_shot(run):
        control = [
            c for c, on in (("shuffled", arm.shuffle), ("reinit", arm.rewind == "reinit")) if on
        ]
        return Method(arm.method, ", ".join(control), arm.base.label)
    return Method(IMP, arm.variant, arm.base.label)


def accuracies(one_shot: list[Run], iterative: list[Run]) -> Accuracies:
    """Each one-shot run's final test accuracy at its `prune.remaining`, and each IMP run's
    round-end accuracy at those fractions (interpolated in log(remaining), `rates.at_fraction`);
    the first run of a method, fraction and seed counts."""
    found: Accuracies = {}
    for run in one_shot:
        fraction = float(run.config["prune"]["remaining"])
        if run.rounds:
            by_seed = found.setdefault(method_of(run), {}).setdefault(fraction, {})
            by_seed.setdefault(run.seed, run.rounds[-1]["test_acc"])
    fractions = sorted({f for by_fraction in found.values() for f in by_fraction}, reverse=True)
    for run in (r for r in iterative if len(r.rounds) > 1):
        for fraction in fractions:
            acc = at_fraction(run.rounds, fraction)
            if acc is not None:
                by_seed = found.setdefault(method_of(run), {}).setdefault(fraction, {})
                by_seed.setdefault(run.seed, acc)
    return found


# A comparison's kind, its two sides (a - b) and the fraction.
Pairing = tuple[str, Method, Method, float]


def pairs(accs: Accuracies) -> list[Pairing]:
    """What the section tests at each fraction: a method's mask against its shuffled control
    (does it find more than per-layer densities?), IMP against each method, and each pair of
    init methods within a method (does Xavier beat Kaiming here too?)."""
    tests: list[Pairing] = []
    for m in sorted(accs, key=lambda m: (m.name, m.control, m.init)):
        for fraction in sorted(accs[m], reverse=True):
            shuffled = Method(m.name, "shuffled", m.init)
            imp = Method(IMP, "", m.init)
            if m.name != IMP and not m.control and fraction in accs.get(shuffled, {}):
                tests.append(("mask vs shuffled", m, shuffled, fraction))
            if m.name != IMP and not m.control and fraction in accs.get(imp, {}):
                tests.append(("IMP vs method", imp, m, fraction))
    inits = sorted({m.init for m in accs})
    for name, control in sorted({(m.name, m.control) for m in accs}):
        for a, b in combinations(inits, 2):
            ma, mb = Method(name, control, a), Method(name, control, b)
            common = set(accs.get(ma, {})) & set(accs.get(mb, {}))
            tests += [("init vs init", ma, mb, f) for f in sorted(common, reverse=True)]
    return tests


def paired_tests(accs: Accuracies) -> list[tuple[Pairing, Comparison]]:
    """Every test of `pairs` with its paired comparison (by seed), Holm-adjusted over the tests
    of its kind at its fraction (Holm 1979)."""
    done = [(t, compare(accs[t[1]][t[3]], accs[t[2]][t[3]])) for t in pairs(accs)]
    done = [(t, c) for t, c in done if c is not None]
    for family in {(t[0], t[3]) for t, _ in done}:
        members = [c for t, c in done if (t[0], t[3]) == family]
        for c, p in zip(members, holm([c.p for c in members]), strict=True):
            c.p_holm = p
    return done
