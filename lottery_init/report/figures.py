"""The study's result figures from a sweep, as matplotlib `Figure`s (no pyplot: any backend)."""

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from lottery_init.report.read.sweep import Run
from lottery_init.report.statistics.t_tests import mean_std
from lottery_init.report.summary import RoundStat


def panels(scales: Mapping[str, float]) -> list[tuple[str, list[str]]]:
    """The study's two groups of labels (`scales`: each label's init scale): the standard
    methods, and the narrowed and widened ones."""
    variants = [label for label, scale in scales.items() if scale != 1]
    standard = [label for label in scales if label not in variants]
    groups = [("standard methods", standard), ("narrowed and widened", variants)]
    return [(title, sorted(group)) for title, group in groups if group]


def remaining_axis(ax: object, remaining: Sequence[float]) -> None:
    """Log-scaled weights-remaining axis from 100% down, sparsity growing to the right."""
    ax.set_xscale("log")
    ticks = sorted({round(r * 100, 1) for r in remaining}, reverse=True)[::2]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.set_xlim(max(remaining) * 100 * 1.15, min(remaining) * 100 / 1.15)
    ax.set_xlabel("weights remaining (%)")


def round_curve(
    ax: object, runs: Sequence[Run], label: str, style: Mapping[str, Any], **line: Any
) -> None:
    """The runs' mean ± sd round-end test accuracy against their mean weights remaining, round
    by round: a line drawn in `style` and `line`, its band in `style`; nothing without rounds."""
    rounds: dict[int, list[dict]] = {}
    for entry in (e for run in runs for e in run.rounds):
        rounds.setdefault(entry["round"], []).append(entry)
    if not rounds:
        return
    rows = [rounds[k] for k in sorted(rounds)]
    x = [100 * np.mean([e["remaining"] for e in row]) for row in rows]
    # nan_to_num: one seed has no spread to draw.
    mean, sd = np.nan_to_num([mean_std([100 * e["test_acc"] for e in row]) for row in rows]).T
    ax.plot(x, mean, label=label, **style, **line)
    ax.fill_between(x, mean - sd, mean + sd, alpha=0.1, **style)


def tickets(stats: list[RoundStat], scales: Mapping[str, float]) -> Figure:
    """Mean ± std (over seeds) round-end test accuracy against weights remaining, per method
    (`scales`: each label's init scale, which sets its panel)."""
    groups = panels(scales)
    fig = Figure(figsize=(7 * len(groups), 5), layout="constrained")
    for ax, (title, inits) in zip(
        fig.subplots(1, len(groups), squeeze=False)[0], groups, strict=True
    ):
        for init in inits:
            rows = [s for s in stats if s.init == init]
            ax.errorbar(
                [s.remaining * 100 for s in rows],
                [s.mean * 100 for s in rows],
                yerr=[0 if math.isnan(s.std) else s.std * 100 for s in rows],
                marker="o",
                markersize=3,
                capsize=3,
                label=init,
            )
        dense = [s.mean * 100 for s in stats if s.round == 0 and s.init in inits]
        ax.axhline(float(np.mean(dense)), color="grey", linestyle="--", label="dense (mean)")
        remaining_axis(ax, [s.remaining for s in stats])
        ax.set(title=title, ylabel="test accuracy at round end (%)")
        ax.legend(fontsize="small")
    return fig


def curves(usable: dict[str, list[Run]]) -> Figure:
    """Test accuracy per epoch over the whole run, mean ± std over seeds, per method."""
    groups = panels({label: runs[0].arm.scale for label, runs in usable.items()})
    fig = Figure(figsize=(7 * len(groups), 5), layout="constrained")
    for ax, (title, inits) in zip(
        fig.subplots(1, len(groups), squeeze=False)[0], groups, strict=True
    ):
        for init in inits:
            epochs = min(len(run.metrics) for run in usable[init])
            if epochs == 0:
                continue
            acc = np.array(
                [[row["test_acc"] * 100 for row in run.metrics[:epochs]] for run in usable[init]]
            )
            mean, std = acc.mean(axis=0), acc.std(axis=0, ddof=1) if len(acc) > 1 else 0 * acc[0]
            (line,) = ax.plot(np.arange(1, epochs + 1), mean, label=init, linewidth=1)
            ax.fill_between(
                np.arange(1, epochs + 1), mean - std, mean + std, color=line.get_color(), alpha=0.2
            )
        ax.set(title=title, xlabel="epoch", ylabel="test accuracy (%)")
        ax.legend(fontsize="small")
    return fig


def remaining(run: Run) -> Figure:
    """Weights remaining over the epochs of one run, overall and per layer (study's Figure 2)."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    epochs = [row["epoch"] + 1 for row in run.metrics]
    ax.step(
        epochs, [row["remaining"] * 100 for row in run.metrics], where="post", label="all weights"
    )
    layers = len(run.rounds[0]["layer_remaining"]) if run.rounds else 0
    for layer in range(layers):
        ends = [(r["round"], r["layer_remaining"][layer] * 100) for r in run.rounds]
        period = len(run.metrics) / max(len(run.rounds), 1)
        ax.step(
            [r * period + 1 for r, _ in ends],
            [v for _, v in ends],
            where="post",
            linestyle=":",
            label=f"layer {layer + 1}",
        )
    ax.set(
        title=f"{run.init}, seed {run.seed}",
        xlabel="epoch",
        ylabel="weights remaining (%)",
        yscale="log",
    )
    ax.legend(fontsize="small")
    return fig
