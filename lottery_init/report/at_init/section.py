"""The report's section on pruning at initialization: the accuracy table, the paired tests per
fraction and `at_init.png`."""

import json
import math
from pathlib import Path

from lottery_init.report.at_init.densities import density_table, scope_note
from lottery_init.report.at_init.figure import figure, order
from lottery_init.report.at_init.pairs import KINDS, paired_tests
from lottery_init.report.at_init.runs import Accuracies, accuracies, base_of, group_of, scope_of
from lottery_init.report.read.names import setting_names
from lottery_init.report.read.sweep import Run
from lottery_init.report.statistics.t_tests import ALPHA, mean_std

INTRO = (
    "Each one-shot run keeps `prune.remaining` of its weights, chosen on its own θ₀ before any "
    "training, and reports its test accuracy after its epochs; IMP's runs of the same model, "
    "data and optimizer give their round-end accuracy at the same fractions, a round's own "
    "where it is at the fraction up to per-layer rounding, else interpolated linearly in "
    "log(weights remaining) between the two rounds that bracket it (blank where none do). "
    "Mean ± sd over seeds (%)."
)


def _cell(by_seed: dict[int, float] | None) -> str:
    """Mean ± sd (%) over seeds; the mean alone for one seed."""
    if not by_seed:
        return ""
    mean, sd = mean_std([100 * a for a in by_seed.values()])
    return f"{mean:.2f}" if math.isnan(sd) else f"{mean:.2f} ± {sd:.2f}"


def table(accs: Accuracies) -> list[str]:
    """Markdown rows per method and init method: seeds, then each fraction's mean ± sd."""
    fractions = sorted({f for by_f in accs.values() for f in by_f}, reverse=True)
    lines = ["| method | init | seeds | " + " | ".join(f"{100 * f:g}%" for f in fractions) + " |"]
    lines.append("|---|---|---|" + "---|" * len(fractions))
    for m in sorted(accs, key=order):
        seeds = len({s for by_seed in accs[m].values() for s in by_seed})
        cells = [_cell(accs[m].get(f)) for f in fractions]
        lines.append(f"| {m.label} | {m.init} | {seeds} | " + " | ".join(cells) + " |")
    return lines


def tests_table(accs: Accuracies, scope: str) -> list[str]:
    """Markdown: per kind of test, how many are significant, then every test's row."""
    done = paired_tests(accs, scope)  # Holm over a kind's tests at one fraction
    lines = []
    for kind, meaning in KINDS.items():
        mine = [(t, c) for t, c in done if t[0] == kind]
        if not mine:
            continue
        hits = sum(c.p_holm < ALPHA for _, c in mine)
        ahead = sum(c.diff > 0 for _, c in mine)
        lines += [
            f"**{kind}** ({meaning}): {hits} of {len(mine)} tests significant; the first "
            f"side ahead in {ahead} of {len(mine)}.",
            "",
        ]
        lines += ["| a − b | fraction | seeds | a − b (points) | 95% CI | p (Holm) |"]
        # With fewer than 2 seeds in common, `compare` falls back to Welch's test: said so.
        lines.append("|---|---|---|---|---|---|")
        for (_, a, b, fraction), c in mine:
            star = "*" if c.p_holm < ALPHA else ""
            ci = f"[{100 * c.ci[0]:+.2f}, {100 * c.ci[1]:+.2f}]"
            seeds = str(c.n[0]) if c.paired else f"{c.n[0]} and {c.n[1]} (Welch)"
            lines.append(
                f"| {a.label}, {a.init} − {b.label}, {b.init} | {100 * fraction:g}% | {seeds} | "
                f"{100 * c.diff:+.2f}{star} | {ci} | {c.p_holm:.3g} |"
            )
        lines.append("")
    return lines


def _lengths(one_shot: list[Run], iterative: list[Run]) -> str:
    """How long each side trained its mask: one-shot epochs, and IMP's epochs per round."""
    epochs = sorted({int(r.config.get("epochs", 0)) for r in one_shot})
    rounds = sorted(
        {int(r.config["prune"]["every_n_epochs"]) for r in iterative if len(r.rounds) > 1}
    )
    text = f"One-shot masks trained {', '.join(map(str, epochs))} epochs"
    return text + (f"; IMP's rounds {', '.join(map(str, rounds))} epochs each." if rounds else ".")


def at_init_section(one_shot: list[Run], iterative: list[Run], out: Path) -> list[str]:
    """The section, with `out / "at_init.png"` (`at_init_2.png`, ... for further groups of runs
    that differ in more than method and fraction); nothing without `one_shot` runs. `one_shot`:
    the runs pruned at initialization, failed ones too (listed as left out); `iterative`: the
    sweep's usable runs."""
    groups: dict[str, list[Run]] = {}
    for run in one_shot:
        groups.setdefault(group_of(run), []).append(run)
    if not groups:
        return []
    # Groups are named by what differs, the keys that `epochs` derives left out.
    derived = ("prune.every_n_epochs", "trainer.max_epochs")
    short = {
        g: json.dumps({k: v for k, v in json.loads(g).items() if k not in derived}) for g in groups
    }
    names = setting_names(list(short.values())) if len(groups) > 1 else {}
    names = {g: names[short[g]] for g in groups} if names else {}
    lines = ["## Pruning at initialization", "", INTRO, ""]
    for i, (group, runs) in enumerate(sorted(groups.items()), start=1):
        base = base_of(runs[0])
        imp = [r for r in iterative if base_of(r) == base]
        accs, left = accuracies(runs, imp)
        lines += [f"### {names[group]}", ""] if names else []
        lines += [f"Left out: {'; '.join(left)}.", ""] if left else []
        if not accs:
            lines += ["No one-shot run has finished yet.", ""]
            continue
        name = "at_init.png" if i == 1 else f"at_init_{i}.png"
        figure(accs, imp, scope_of(runs[0])).savefig(out / name, dpi=110)
        lines += [_lengths(runs, imp), "", *table(accs), "", *density_table(runs, imp, accs)]
        lines += [f"![Accuracy against weights remaining]({name})", "", *scope_note(runs, accs)]
        lines += tests_table(accs, scope_of(runs[0]))
    return lines
