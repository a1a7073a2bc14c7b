"""What each mask spends its weights on: the per-layer densities of each method's masks at each
fraction (from each round's `layer_remaining` in `run.json`), and whether IMP's scope matches
the masks' so that a test compares methods rather than scopes."""

import math
import statistics

from lottery_init.report.at_init.runs import IMP, Accuracies, method_of, reference, scope_of
from lottery_init.report.read.sweep import Run


def _nearest(run: Run, fraction: float) -> list[float] | None:
    """The per-layer densities of the run's round nearest `fraction` in log(remaining)."""
    rounds = [e for e in run.rounds if "layer_remaining" in e]
    if not rounds:
        return None
    entry = min(rounds, key=lambda e: abs(math.log(e["remaining"] / fraction)))
    return entry["layer_remaining"]


def densities(one_shot: list[Run], iterative: list[Run], accs: Accuracies) -> dict:
    """Per (method label, init, fraction): each layer's density, mean over seeds; one-shot
    methods at their own fraction (controls keep their method's counts, so they are left out),
    IMP at its round nearest each fraction of the table."""
    found: dict[tuple[str, str, float], list[list[float]]] = {}
    for run in one_shot:
        m = method_of(run)
        layers = run.rounds[-1].get("layer_remaining") if run.rounds else None
        if not m.control and layers is not None:
            key = (m.label, m.init, float(run.config["prune"]["remaining"]))
            found.setdefault(key, []).append(layers)
    fractions = sorted({f for by_f in accs.values() for f in by_f}, reverse=True)
    for run in (r for r in iterative if method_of(r) in accs):
        m = method_of(run)
        for fraction in fractions:
            if (layers := _nearest(run, fraction)) is not None:
                found.setdefault((m.label, m.init, fraction), []).append(layers)
    return {k: [statistics.fmean(col) for col in zip(*v, strict=True)] for k, v in found.items()}


def density_table(one_shot: list[Run], iterative: list[Run], accs: Accuracies) -> list[str]:
    """Markdown rows of `densities`, by fraction, one-shot methods first, IMP after them."""
    found = densities(one_shot, iterative, accs)
    if not found:
        return []
    layers = len(next(iter(found.values())))
    lines = [
        "Weights each mask keeps per layer (%, mean over seeds; IMP: its round nearest the "
        "fraction; controls keep their method's counts):",
        "",
        "| fraction | method | init | "
        + " | ".join(f"layer {i + 1}" for i in range(layers))
        + " |",
        "|---|---|---|" + "---|" * layers,
    ]
    for label, init, fraction in sorted(found, key=lambda k: (-k[2], k[0].startswith(IMP), k)):
        cells = " | ".join(f"{100 * d:.3g}" for d in found[(label, init, fraction)])
        lines.append(f"| {100 * fraction:g}% | {label} | {init} | {cells} |")
    return [*lines, ""]


def scope_note(one_shot: list[Run], accs: Accuracies) -> list[str]:
    """A sentence where IMP's runs here prune at another scope than the masks (so no IMP test is
    printed); nothing where they match or no IMP ran."""
    scope = scope_of(one_shot[0])
    imps = sorted({m.name for m in accs if m.name.startswith(IMP)})
    if not imps or reference(scope) in imps:
        return []
    return [
        f"These masks rank {'each layer on its own' if scope == 'layer' else 'all layers together'}"
        f" (`prune.scope={scope}`) and no IMP run here does ({', '.join(imps)}): the scopes "
        "differ, so IMP is shown but not tested against them. IMP of the same scope "
        f"(`prune={'imp' if scope == 'layer' else 'imp_global'}`) in this folder compares methods.",
        "",
    ]
