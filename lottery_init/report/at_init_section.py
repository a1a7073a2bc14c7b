"""The report's section on pruning at initialization: the accuracy table, the paired tests per
fraction and `at_init.png`."""

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from lottery_init.report.at_init import (
    IMP,
    Accuracies,
    Method,
    accuracies,
    is_one_shot,
    method_of,
    paired_tests,
    rest_of,
)
from lottery_init.report.figures import remaining_axis
from lottery_init.report.names import setting_names
from lottery_init.report.stats import ALPHA, mean_std
from lottery_init.report.sweep import Run

INTRO = (
    "Each one-shot run keeps `prune.remaining` of its weights, chosen on its own θ₀ before any "
    "training, and reports its test accuracy after its epochs; IMP's runs of the same setting "
    "(same model, data and training, any schedule) give their round-end accuracy at the same "
    "fractions, interpolated linearly in log(weights remaining) between the two rounds that "
    "bracket it (blank where none do). Mean ± sd over seeds (%)."
)
KINDS = {
    "mask vs shuffled": "the method's mask minus its shuffled control (same per-layer counts): "
    "does the method find more than per-layer densities?",
    "IMP vs method": "IMP minus the method, same init method and seed",
    "init vs init": "one init method minus another under the same method: does Xavier beat "
    "Kaiming here too?",
}


def _cell(by_seed: dict[int, float] | None) -> str:
    if not by_seed:
        return ""
    mean, sd = mean_std([100 * a for a in by_seed.values()])
    return f"{mean:.2f}" if math.isnan(sd) else f"{mean:.2f} ± {sd:.2f}"


def _order(m: Method) -> tuple:
    return (m.name == IMP, m.name, m.control, m.init)


def table(accs: Accuracies) -> list[str]:
    """Markdown rows per method and init method: seeds, then each fraction's mean ± sd."""
    fractions = sorted({f for by_f in accs.values() for f in by_f}, reverse=True)
    lines = ["| method | init | seeds | " + " | ".join(f"{100 * f:g}%" for f in fractions) + " |"]
    lines.append("|---|---|---|" + "---|" * len(fractions))
    for m in sorted(accs, key=_order):
        seeds = len({s for by_seed in accs[m].values() for s in by_seed})
        cells = [_cell(accs[m].get(f)) for f in fractions]
        lines.append(f"| {m.label} | {m.init} | {seeds} | " + " | ".join(cells) + " |")
    return lines


def tests_table(accs: Accuracies) -> list[str]:
    """Markdown: per kind of test, how many are significant, then every test's row."""
    done = paired_tests(accs)
    lines = []
    for kind, meaning in KINDS.items():
        mine = [(t, c) for t, c in done if t[0] == kind]
        if not mine:
            continue
        hits = sum(c.p_holm < ALPHA for _, c in mine)
        ahead = sum(c.diff > 0 for _, c in mine)
        lines += [
            f"**{kind}**: {meaning} {hits} of {len(mine)} tests significant; the first "
            f"side ahead in {ahead} of {len(mine)}.",
            "",
        ]
        lines += ["| a − b | fraction | seeds | a − b (points) | 95% CI | p (Holm) |"]
        lines.append("|---|---|---|---|---|---|")
        for (_, a, b, fraction), c in mine:
            star = "*" if c.p_holm < ALPHA else ""
            ci = f"[{100 * c.ci[0]:+.2f}, {100 * c.ci[1]:+.2f}]"
            lines.append(
                f"| {a.label}, {a.init} − {b.label}, {b.init} | {100 * fraction:g}% | {c.n[0]} | "
                f"{100 * c.diff:+.2f}{star} | {ci} | {c.p_holm:.3g} |"
            )
        lines.append("")
    return lines


def figure(accs: Accuracies, iterative: list[Run]) -> Figure:
    """Per init method a panel: each one-shot method's mean ± sd accuracy against weights
    remaining (dashed: shuffled control), and IMP's round-end accuracy over all its rounds."""
    inits = sorted({m.init for m in accs})
    names = sorted({m.name for m in accs if m.name != IMP})
    fig = Figure(figsize=(7 * len(inits), 5), layout="constrained")
    fractions = [f for by_f in accs.values() for f in by_f]
    for ax, init in zip(fig.subplots(1, len(inits), squeeze=False)[0], inits, strict=True):
        for m in sorted((m for m in accs if m.init == init and m.name != IMP), key=_order):
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
        _imp_curve(ax, [r for r in iterative if method_of(r) == Method(IMP, "", init)])
        remaining_axis(ax, [*fractions, 1.0])
        ax.set(title=init, ylabel="test accuracy (%)")
        ax.legend(fontsize="small")
    return fig


def _imp_curve(ax: object, runs: list[Run]) -> None:
    """IMP's mean ± sd round-end test accuracy against its mean weights remaining, per round."""
    rounds: dict[int, list[dict]] = {}
    for entry in (e for run in runs for e in run.rounds):
        rounds.setdefault(entry["round"], []).append(entry)
    if not rounds:
        return
    rows = [rounds[k] for k in sorted(rounds)]
    x = [100 * np.mean([e["remaining"] for e in row]) for row in rows]
    mean, sd = np.nan_to_num([mean_std([100 * e["test_acc"] for e in row]) for row in rows]).T
    ax.plot(x, mean, color="black", marker=".", linewidth=1, label=f"{IMP} (round ends)")
    ax.fill_between(x, mean - sd, mean + sd, color="black", alpha=0.1)


def at_init_section(runs: list[Run], out: Path) -> list[str]:
    """The section, with `out / "at_init.png"` (`at_init_2.png`, ... for further settings);
    nothing when no run pruned at initialization. `runs`: the sweep's runs that did not fail."""
    groups: dict[str, list[Run]] = {}
    for run in (r for r in runs if is_one_shot(r)):
        groups.setdefault(rest_of(run), []).append(run)
    if not groups:
        return []
    names = setting_names(list(groups)) if len(groups) > 1 else {}
    lines = ["## Pruning at initialization", "", INTRO, ""]
    for i, (rest, one_shot) in enumerate(sorted(groups.items()), start=1):
        iterative = [r for r in runs if not is_one_shot(r) and rest_of(r) == rest]
        accs = accuracies(one_shot, iterative)
        name = "at_init.png" if i == 1 else f"at_init_{i}.png"
        figure(accs, iterative).savefig(out / name, dpi=110)
        lines += [f"### {names[rest]}", ""] if names else []
        lines += [*table(accs), "", f"![Accuracy against weights remaining]({name})", ""]
        lines += tests_table(accs)
    return lines
