"""Pruning rates and intervals compared at equal fractions of weights remaining, not equal rounds
("Making Networks Prune-Ready", Wijnja, Wierstra, Hamburger 2020, Further Research)."""

import json
import math
from pathlib import Path

from matplotlib.figure import Figure

from lottery_init.report.figures import remaining_axis, round_curve
from lottery_init.report.read.names import setting_names
from lottery_init.report.read.sweep import Run
from lottery_init.report.statistics.t_tests import ALPHA, Comparison, compare, holm, mean_std

# The study's reporting points: 0.8^12, 0.8^15 and 0.8^18 of the weights (6.9%, 3.5%, 1.8%).
FRACTIONS = tuple(0.8**r for r in (12, 15, 18))
STUDY = (0.2, 5)  # its rate and interval
# What a schedule sets in a run's config; the rest of its setting must match to compare arms.
SCHEDULE = ("prune.rate", "prune.every_n_epochs", "prune.target_remaining", "epochs")
Key = tuple[str, float, int]  # label (init method and variant), rate, interval
Accuracies = dict[Key, dict[float, dict[int, float]]]  # by fraction, by seed


def schedule(run: Run) -> tuple[float, int]:
    """The run's prune rate and interval."""
    prune = run.config.get("prune", {})
    return float(prune.get("rate", STUDY[0])), int(prune.get("every_n_epochs", STUDY[1]))


# A round within this relative distance of a fraction is at it: per-layer rounding of the prune
# counts moves a round's remaining a hair from its nominal (1 - rate)^k (0.1% at 0.8^19 here).
ROUNDING = 0.005


def at_fraction(rounds: list[dict], fraction: float) -> float | None:
    """Round-end test accuracy at `fraction` of the weights remaining: a round's own where it
    is at the fraction up to rounding, else linear in log(remaining) between the two rounds
    that bracket it; None outside the rounds' range (no extrapolation)."""
    points = sorted(((r["remaining"], r["test_acc"]) for r in rounds), reverse=True)
    exact = [acc for f, acc in points if math.isclose(f, fraction, rel_tol=ROUNDING)]
    if exact:
        return exact[0]
    for (f0, a0), (f1, a1) in zip(points, points[1:], strict=False):
        if f1 < fraction < f0:
            return a0 + math.log(f0 / fraction) / math.log(f0 / f1) * (a1 - a0)
    return None


def accuracies(runs: list[Run]) -> Accuracies:
    """Per arm, fraction and seed: the accuracy at each of FRACTIONS the run's rounds bracket."""
    found: Accuracies = {}
    for run in runs:
        by_fraction = found.setdefault((run.label, *schedule(run)), {})
        for fraction in FRACTIONS:
            acc = at_fraction(run.rounds, fraction)
            if acc is not None:
                by_fraction.setdefault(fraction, {})[run.seed] = acc
    return found


def versus_study(accs: Accuracies) -> dict[Key, dict[float, Comparison]]:
    """Each arm minus the study's arm of its init method, per fraction both reach, paired by
    seed (`t_tests.compare`), Holm-adjusted over the arm's fractions (Holm 1979)."""
    result = {}
    for (label, *arm), by_fraction in sorted(accs.items()):
        study = accs.get((label, *STUDY))
        if study is None or tuple(arm) == STUDY:
            continue
        found = {f: compare(a, study[f]) for f, a in by_fraction.items() if f in study}
        found = {f: c for f, c in found.items() if c is not None}
        for c, p in zip(found.values(), holm([c.p for c in found.values()]), strict=True):
            c.p_holm = p
        result[(label, *arm)] = found
    return result


def _cell(accs: dict[int, float] | None, vs: Comparison | None) -> str:
    """Mean accuracy (%), then the difference from the study's arm (points), * where significant."""
    if not accs:
        return ""
    text = f"{100 * mean_std(list(accs.values()))[0]:.2f}"
    star = "*" if vs is not None and vs.p_holm < ALPHA else ""
    return text if vs is None else f"{text} ({100 * vs.diff:+.2f}{star})"


def table(accs: Accuracies) -> list[str]:
    """Markdown rows per arm: seeds, and each reached fraction's mean and difference."""
    vs = versus_study(accs)
    fractions = [f for f in FRACTIONS if any(f in a for a in accs.values())]
    lines = ["| init | rate | every | seeds | " + " | ".join(f"{f:.1%}" for f in fractions) + " |"]
    lines.append("|---|---|---|---|" + "---|" * len(fractions))
    for key in sorted(accs, key=lambda k: (k[0], k[1:] != STUDY, k[1:])):
        seeds = len({s for a in accs[key].values() for s in a})
        every = f"{key[2]} (study)" if key[1:] == STUDY else str(key[2])
        cells = [_cell(accs[key].get(f), vs.get(key, {}).get(f)) for f in fractions]
        lines.append(f"| {key[0]} | {key[1]:g} | {every} | {seeds} | " + " | ".join(cells) + " |")
    return lines


def rates_figure(runs: list[Run]) -> Figure:
    """Round-end test accuracy against weights remaining per arm (colour: rate, line: interval),
    mean ± sd over seeds, one panel per init method, the comparison fractions dotted."""
    labels = sorted({r.label for r in runs})
    rates, intervals = (sorted({schedule(r)[i] for r in runs}) for i in (0, 1))
    fig = Figure(figsize=(7 * len(labels), 5), layout="constrained")
    smallest = min(r["remaining"] for run in runs for r in run.rounds)
    # The study's own fractions as ticks, down to the sparsest round of any arm.
    grid = [0.8**r for r in range(math.ceil(math.log(smallest) / math.log(0.8)) + 1)]
    for ax, label in zip(fig.subplots(1, len(labels), squeeze=False)[0], labels, strict=True):
        mine = [r for r in runs if r.label == label]
        for rate, every in sorted({schedule(r) for r in mine}):
            dash = ("-", "--", ":", "-.")[intervals.index(every) % 4]
            style = {"color": f"C{rates.index(rate) % 10}", "linestyle": dash}
            arm = [r for r in mine if schedule(r) == (rate, every)]
            name = f"{rate:g}/{every}" + (" (study)" if (rate, every) == STUDY else "")
            round_curve(ax, arm, name, style, marker="o", markersize=2)
        for fraction in FRACTIONS:
            ax.axvline(100 * fraction, color="grey", linestyle=":", linewidth=1)
        remaining_axis(ax, grid)
        ax.set(title=label, ylabel="test accuracy at round end (%)")
        ax.legend(title="rate/every", fontsize="small")
    return fig


def rates_section(runs: list[Run], out: Path) -> list[str]:
    """The report's comparison of pruning rates and intervals, with `out / "rates.png"`
    (`rates_2.png`, ... for further settings); nothing when no runs differ in either."""
    groups: dict[str, dict[tuple, Run]] = {}
    # A run of one round (prune=dense) never prunes, so it is no rate arm.
    for run in (r for r in runs if len(r.rounds) > 1):
        # Arms compared with each other share everything but their schedule; a seed counts once
        # per arm (a run with a target and its twin without one are the same schedule).
        keys = json.loads(run.setting)
        rest = json.dumps({k: v for k, v in keys.items() if k not in SCHEDULE}, sort_keys=True)
        groups.setdefault(rest, {}).setdefault((run.label, schedule(run), run.seed), run)
    varied = {c: list(g.values()) for c, g in sorted(groups.items()) if len({k[1] for k in g}) > 1}
    names = setting_names(list(varied)) if len(varied) > 1 else {}
    lines = [
        "## Pruning rates and intervals",
        "",
        "Arms reach a fraction of weights remaining in different rounds, so they are compared at "
        "equal fractions: each seed's round-end test accuracy, a round's own where it is at the "
        "fraction up to per-layer rounding (0.5%), else interpolated linearly in log(weights "
        "remaining) between the two rounds that bracket the fraction (blank where none do). "
        "Mean accuracy (%) over seeds; in brackets the difference from the study's "
        "arm (rate 0.2, every 5 epochs) in points, paired by seed; * where Holm's p over the "
        f"arm's fractions is below {ALPHA}.",
        "",
    ]
    for i, (rest, group) in enumerate(varied.items(), start=1):
        figure = "rates.png" if i == 1 else f"rates_{i}.png"
        rates_figure(group).savefig(out / figure, dpi=110)
        lines += [f"### {names[rest]}", ""] if names else []
        lines += [*table(accuracies(group)), ""]
        lines += [f"![Accuracy against weights remaining per rate and interval]({figure})", ""]
    return lines if varied else []
