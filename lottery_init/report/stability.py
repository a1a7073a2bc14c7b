"""Stability: where each seed's ticket breaks, the share of seeds still holding per round, and
per method; `python -m lottery_init.report.stability` checks the pair test by simulation."""

import statistics
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from lottery_init.report.figures import remaining_axis
from lottery_init.report.layers import FEW_PER_CLASS, median_starved_round
from lottery_init.report.read.sweep import Run
from lottery_init.report.statistics.signed_rank import Break, PairTest, pair_lines

# A seed's ticket holds while its round-end test accuracy stays within 1 point (100 of the
# 10,000 test images) of its own dense accuracy: well above a healthy ticket's round-to-round
# and seed-to-seed noise (the seed sd of dense accuracy is 0.15-0.45 points on MNIST and
# Fashion-MNIST in 3-seed sweeps here), well below a collapse (5-20 points).
BREAK_MARGIN = 0.01
# Accuracies count test images: a drop of exactly the margin holds, despite float rounding.
_SLACK = 1e-9


def breaking_point(run: Run, margin: float = BREAK_MARGIN) -> Break | None:
    """The last round r such that every round 0..r has test accuracy at least the run's dense
    (round 0) accuracy minus `margin`; None for a run without a round 0."""
    rounds = sorted(run.rounds, key=lambda entry: entry["round"])
    if not rounds or rounds[0]["round"] != 0:
        return None
    floor = rounds[0]["test_acc"] - margin - _SLACK
    held = 0
    for entry in rounds:
        # The first fall ends the hold: a later recovery does not extend it.
        if entry["test_acc"] < floor:
            break
        held = entry["round"]
    return Break(run.seed, held, rounds[-1]["round"])


def breaks(usable: dict[str, list[Run]], margin: float = BREAK_MARGIN) -> dict[str, list[Break]]:
    """Each method's breaking points, one per run with a round 0; methods without any left out."""
    found = {
        label: [point for run in runs if (point := breaking_point(run, margin)) is not None]
        for label, runs in sorted(usable.items())
    }
    return {label: points for label, points in found.items() if points}


def remaining_by_round(runs: Sequence[Run]) -> dict[int, float]:
    """Mean weights-remaining fraction of each round, over the runs that reached it."""
    seen: dict[int, list[float]] = {}
    for run in runs:
        for entry in run.rounds:
            seen.setdefault(entry["round"], []).append(entry["remaining"])
    return {r: statistics.fmean(values) for r, values in sorted(seen.items())}


def survival(points: Sequence[Break], last: int) -> list[float]:
    """Share of seeds still holding at rounds 0..`last` (Kaplan & Meier 1958): an unfinished run
    counts while it is observed, and is not taken as broken after its last round."""
    share, shares = 1.0, []
    for r in range(last + 1):
        at_risk = sum(p.round >= r - 1 and p.last >= r for p in points)
        broke = sum(p.round == r - 1 and p.last >= r for p in points)
        if at_risk:
            share *= 1 - broke / at_risk
        shares.append(share)
    return shares


def stability_figure(usable: dict[str, list[Run]], margin: float = BREAK_MARGIN) -> Figure:
    """Per method, the share of its seeds whose ticket still holds, against weights remaining."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    every: list[float] = []
    for number, (label, points) in enumerate(breaks(usable, margin).items()):
        remaining = remaining_by_round(usable[label])
        shares = [survival(points, max(remaining))[r] * 100 for r in remaining]
        # Methods often share a step: a line style each keeps every one of them visible.
        style = {"where": "post", "linestyle": ["-", "--", "-.", ":"][number % 4]}
        line = ax.step([value * 100 for value in remaining.values()], shares, label=label, **style)
        every += remaining.values()
        starved = median_starved_round(usable[label])
        if starved is not None:
            x = _remaining_at(remaining, starved) * 100
            ax.axvline(x, color=line[0].get_color(), linestyle=":", linewidth=1)
    if every:
        remaining_axis(ax, every)
    ax.set(ylabel=f"seeds within {margin * 100:.2f} points of dense (%)", ylim=(-3, 103))
    ax.legend(fontsize="small", title=f"dotted: output layer < {FEW_PER_CLASS} weights per class")
    return fig


def _remaining_at(remaining: dict[int, float], round_: float) -> float:
    """Weights remaining at a (possibly half) round, interpolated geometrically between rounds."""
    return float(np.exp(np.interp(round_, list(remaining), np.log(list(remaining.values())))))


def stability_table(usable: dict[str, list[Run]], margin: float = BREAK_MARGIN) -> list[str]:
    """Markdown rows per method: seeds, median breaking round and the weights remaining there,
    the range of breaking rounds, and the seeds that held to their last round."""
    lines = [
        "| init | seeds | median breaking round | weights remaining there "
        "| range (rounds) | held to their last round |",
        "|---|---|---|---|---|---|",
    ]
    for label, points in breaks(usable, margin).items():
        rounds = [p.round for p in points]
        median = statistics.median(rounds)
        there = _remaining_at(remaining_by_round(usable[label]), median)
        held = sum(p.held for p in points)
        lines.append(
            f"| {label} | {len(points)} | {median:g} | {there:.2%} "
            f"| {min(rounds)}-{max(rounds)} | {held} of {len(points)} |"
        )
    return lines


def stability_section(
    usable: dict[str, list[Run]], tests: list[PairTest], margin: float, out: Path
) -> list[str]:
    """The report's stability section: writes `out / "stability.png"`, returns its markdown
    (definition, figure, table, the pairs' `tests`); [] when no method has a round 0."""
    if not breaks(usable, margin):
        return []
    stability_figure(usable, margin).savefig(out / "stability.png", dpi=110)
    return [
        "## Stability: where each seed's ticket breaks",
        "",
        "A seed's ticket *breaks* after the last round r at which every round 0..r has a round-end "
        f"test accuracy at least its own dense accuracy minus {margin * 100:.2f} points "
        "(`--break-margin`: above a healthy ticket's noise, below a collapse); a later recovery "
        "does not count, and for a seed that never falls it is its last round, a lower bound. The "
        "figure: per method, the share of seeds still holding (Kaplan-Meier, so that an "
        "unfinished run counts only while it is observed).",
        "",
        "![Share of each method's seeds whose ticket still holds, against weights remaining]"
        "(stability.png)",
        "",
        *stability_table(usable, margin),
        "",
        *pair_lines(tests),
    ]


if __name__ == "__main__":
    # The pair test's simulation keeps the command the report and docs name.
    from lottery_init.report.statistics.stability_sim import main

    main()
