"""What the pruning-at-initialization section tests at each fraction, and the tests: a method
against its controls and IMP, and init methods against each other, paired by seed."""

from itertools import combinations

from lottery_init.report.at_init.runs import IMP, Accuracies, Method, reference
from lottery_init.report.statistics.t_tests import Comparison, compare, holm

# A comparison's kind, its two sides (a - b) and the fraction.
Pairing = tuple[str, Method, Method, float]
# Each kind of comparison: what it asks.
KINDS = {
    "mask vs shuffled": "the method's mask minus its shuffled control, which has the same "
    "per-layer counts: does the method find more than per-layer densities?",
    "θ₀ vs reinit": "the mask trained from θ₀ minus the same mask trained from a fresh draw of "
    "the init method: does the mask need its own θ₀?",
    "IMP vs method": "IMP on the study's rate and interval, at the masks' scope (per layer or "
    "global), minus the method, same init method and seed",
    "init vs init": "one init method minus another under the same method and control: does "
    "Xavier beat Kaiming here too?",
}


def _against_controls(accs: Accuracies, m: Method, fraction: float, scope: str) -> list[Pairing]:
    """A one-shot method without control against its controls and against IMP of its `scope`
    at `fraction`."""
    others = {
        "mask vs shuffled": (m, Method(m.name, "shuffled", m.init)),
        "θ₀ vs reinit": (m, Method(m.name, "reinit", m.init)),
        "IMP vs method": (Method(reference(scope), "", m.init), m),
    }
    return [
        (kind, a, b, fraction)
        for kind, (a, b) in others.items()
        if fraction in accs.get(a, {}) and fraction in accs.get(b, {})
    ]


def pairs(accs: Accuracies, scope: str) -> list[Pairing]:
    """What the section tests at each fraction, kind by kind (`KINDS`), for one-shot masks of
    `scope`: IMP only at the same scope, so that a test compares methods, not scopes."""
    tests: list[Pairing] = []
    for m in sorted(accs, key=lambda m: (m.name, m.control, m.init)):
        if not m.name.startswith(IMP) and not m.control:
            for fraction in sorted(accs[m], reverse=True):
                tests += _against_controls(accs, m, fraction, scope)
    # Reverse order puts Xavier before Kaiming and uniform before normal: "Xavier − Kaiming".
    inits = sorted({m.init for m in accs}, reverse=True)
    for name, control in sorted({(m.name, m.control) for m in accs}):
        for a, b in combinations(inits, 2):
            ma, mb = Method(name, control, a), Method(name, control, b)
            common = set(accs.get(ma, {})) & set(accs.get(mb, {}))
            tests += [("init vs init", ma, mb, f) for f in sorted(common, reverse=True)]
    order = list(KINDS)
    return sorted(tests, key=lambda t: order.index(t[0]))


def paired_tests(accs: Accuracies, scope: str) -> list[tuple[Pairing, Comparison]]:
    """Every test of `pairs` with its comparison (`t_tests.compare`: paired by seed), Holm-adjusted
    over the tests of its kind at its fraction (Holm 1979)."""
    done = [(t, compare(accs[t[1]][t[3]], accs[t[2]][t[3]])) for t in pairs(accs, scope)]
    done = [(t, c) for t, c in done if c is not None]
    for family in {(t[0], t[3]) for t, _ in done}:
        members = [c for t, c in done if (t[0], t[3]) == family]
        for c, p in zip(members, holm([c.p for c in members]), strict=True):
            c.p_holm = p
    return done
