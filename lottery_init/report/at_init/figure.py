"""`at_init.png`: accuracy against weights remaining per pruning method, one panel per init
method, beside IMP's round ends."""

import math

import numpy as np
from matplotlib.figure import Figure

from lottery_init.report.at_init.runs import IMP, Accuracies, Method, method_of, reference
from lottery_init.report.figures import remaining_axis, round_curve
from lottery_init.report.read.sweep import Run
from lottery_init.report.statistics.t_tests import mean_std


def order(m: Method) -> tuple[bool, str, str, str]:
    """One-shot methods first, IMP last, each with its controls after it."""
    return (m.name.startswith(IMP), m.name, m.control, m.init)


def figure(accs: Accuracies, iterative: list[Run], scope: str = "layer") -> Figure:
    """Per init method a panel: each one-shot method's mean ± sd accuracy against weights
    remaining (dashed: shuffled control; dotted: other controls), and the round-end accuracy of
    IMP at the masks' `scope` over all its rounds."""
    inits = sorted({m.init for m in accs})
    names = sorted({m.name for m in accs})
    fig = Figure(figsize=(7 * len(inits), 5), layout="constrained")
    smallest = min(f for by_f in accs.values() for f in by_f)
    # The study's fractions, 0.8^r, as ticks, down to the sparsest one-shot fraction.
    grid = [0.8**r for r in range(math.ceil(math.log(smallest) / math.log(0.8)) + 1)]
    for ax, init in zip(
        fig.subplots(1, len(inits), squeeze=False, sharey=True)[0], inits, strict=True
    ):
        study = Method(reference(scope), "", init)  # drawn as IMP's whole curve instead
        for m in sorted((m for m in accs if m.init == init and m != study), key=order):
            x = sorted(accs[m], reverse=True)
            stats = np.nan_to_num([mean_std([100 * a for a in accs[m][f].values()]) for f in x]).T
            style = "--" if "shuffled" in m.control else ":" if m.control else "-"
            color = f"C{names.index(m.name) % 10}"
            ax.errorbar(
                [100 * f for f in x],
                stats[0],
                yerr=stats[1],
                fmt="o" + style,
                color=color,
                capsize=3,
                markersize=4,
                label=m.label,
            )
        imp = [r for r in iterative if method_of(r) == study]
        label = f"{study.name} (round ends)"
        round_curve(ax, imp, label, {"color": "black"}, marker=".", linewidth=1)
        remaining_axis(ax, grid)
        ax.set(title=init, ylabel="test accuracy (%)")
        ax.legend(fontsize="small")
    return fig
