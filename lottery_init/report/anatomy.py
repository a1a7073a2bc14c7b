"""Ticket anatomy: which weights survive, from each run's `masks.npz` and the θ₀ that its
init method and seed regenerate (nothing else is stored)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from lottery_init.models.initializers import InitMethod
from lottery_init.report import overlap
from lottery_init.report.distributions import layer_shapes, sampled_weights
from lottery_init.report.read.sweep import Run
from lottery_init.runs.layout import MASKS
from lottery_init.runs.masks_file import load_masks

# Rounds shown: those nearest 21%, 6.9% and 1.8% of the weights remaining (0.8^7, ^12, ^18).
TARGETS = (0.21, 0.069, 0.018)


@dataclass
class Ticket:
    """One run's masks by round and its θ₀ per layer in units of the layer's init std."""

    label: str
    seed: int
    masks: dict[int, list[np.ndarray]]
    theta0: list[np.ndarray]


def ticket(run: Run) -> Ticket:
    """A run's masks and its |θ₀| / std per layer, flattened like the masks."""
    method = InitMethod(**run.config["init"])
    shapes = layer_shapes(run.config)
    weights = sampled_weights(method, run.config, run.seed)
    stds = [method.std(*shape, layer) for layer, shape in enumerate(shapes)]
    theta0 = [np.abs(w) / s for w, s in zip(weights, stds, strict=True)]
    masks = {r: [m.ravel() for m in ms] for r, ms in load_masks(run.dir).items()}
    return Ticket(run.label, run.seed, masks, theta0)


def started_large(survivors: np.ndarray, magnitude: np.ndarray) -> float:
    """The share of survivors among the len(survivors) weights largest in |θ₀|."""
    k = int(survivors.sum())
    if k == 0:
        return math.nan
    largest = np.zeros_like(survivors)
    largest[np.argsort(magnitude, kind="stable")[-k:]] = True
    return float((survivors & largest).sum() / k)


def anatomy_rows(tickets: Sequence[Ticket], rounds: Sequence[int]) -> list[dict]:
    """Per method, round and layer (means over seeds): survivors' median |θ₀| / std against
    all weights', and the survivors' share among the largest |θ₀| against chance (k / n)."""
    rows = []
    for label in dict.fromkeys(t.label for t in tickets):
        mine = [t for t in tickets if t.label == label]
        for r in rounds:
            for layer in range(len(mine[0].theta0)):
                pairs = [(t.masks[r][layer], t.theta0[layer]) for t in mine if r in t.masks]
                if not pairs:
                    continue
                rows.append(
                    {
                        "init": label,
                        "round": r,
                        "layer": layer + 1,
                        "remaining": float(np.mean([m.mean() for m, _ in pairs])),
                        "median_survivors": float(np.mean([np.median(z[m]) for m, z in pairs])),
                        "median_all": float(np.mean([np.median(z) for _, z in pairs])),
                        "started_large": float(np.mean([started_large(m, z) for m, z in pairs])),
                    }
                )
    return rows


def anatomy_table(rows: list[dict]) -> list[str]:
    """Markdown rows of `anatomy_rows`."""
    lines = [
        "| init | round | layer | layer remaining | median abs(θ₀)/std, survivors | all weights "
        "| survivors among the largest abs(θ₀) | by chance |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['init']} | {r['round']} | {r['layer']} | {r['remaining']:.1%} "
        f"| {r['median_survivors']:.2f} | {r['median_all']:.2f} | {r['started_large']:.1%} "
        f"| {r['remaining']:.1%} |"
        for r in rows
    ]
    return lines


def anatomy_figure(tickets: Sequence[Ticket], rounds: Sequence[int]) -> Figure:
    """Rows: rounds; columns: layers. Density of survivors' |θ₀| / std per method (pooled
    over seeds), over every weight's (grey, per method)."""
    layers = len(tickets[0].theta0)
    fig = Figure(figsize=(5 * layers, 3.6 * len(rounds)), layout="constrained")
    grid = fig.subplots(len(rounds), layers, squeeze=False)
    bins = np.linspace(0, 4, 81)
    labels = list(dict.fromkeys(t.label for t in tickets))
    for axes, r in zip(grid, rounds, strict=True):
        for layer, ax in enumerate(axes):
            for label in labels:
                mine = [t for t in tickets if t.label == label and r in t.masks]
                kept = np.concatenate([t.theta0[layer][t.masks[r][layer]] for t in mine])
                every = np.concatenate([t.theta0[layer] for t in mine])
                ax.hist(every, bins=bins, density=True, histtype="step", color="0.7")
                ax.hist(kept, bins=bins, density=True, histtype="step", label=label)
            share = np.mean([t.masks[r][layer].mean() for t in tickets if r in t.masks])
            ax.set(title=f"layer {layer + 1}, round {r}: {share:.1%} kept", xlabel="|θ₀| / std")
        axes[0].set_ylabel("density")
    grid[0][0].legend(fontsize="x-small", title="survivors (grey: all weights)")
    return fig


def _kept(masks: Sequence[np.ndarray]) -> float:
    """The fraction of all weights a round's masks keep."""
    return sum(int(m.sum()) for m in masks) / sum(m.size for m in masks)


def ticket_section(runs: Sequence[Run], out: Path) -> list[str]:
    """The report's ticket anatomy and overlap section, writing anatomy.png and overlap.png;
    nothing for runs without masks.npz."""
    tickets = [ticket(run) for run in runs if (Path(run.dir) / MASKS).exists()]
    tickets = [t for t in tickets if t.masks]
    if not tickets:
        return []
    remaining = {r: _kept(t.masks[r]) for t in tickets for r in t.masks}
    # A sweep that stops before 21% remaining shows its last round.
    rounds = overlap.nearest_rounds(remaining, TARGETS) or [max(remaining)]
    by_label: dict = {}
    for t in tickets:
        by_label.setdefault(t.label, {})[t.seed] = t.masks
    every_round = sorted(remaining)
    rows = overlap.overlap_rows(by_label, every_round)
    anatomy_figure(tickets, rounds).savefig(out / "anatomy.png", dpi=110)
    overlap.overlap_figure(rows).savefig(out / "overlap.png", dpi=110)
    shown = [row for row in rows if row["round"] in rounds]
    return [
        "## Ticket anatomy: which weights survive",
        "",
        "![Survivors' |θ₀| against all weights', per layer and round](anatomy.png)",
        "",
        *anatomy_table(anatomy_rows(tickets, rounds)),
        "",
        "## Do runs find the same tickets?",
        "",
        "Jaccard overlap of masks (every round in overlap.png; the rounds above here).",
        "",
        "![Mask overlap against weights remaining](overlap.png)",
        "",
        *overlap.overlap_table(shown),
        "",
    ]
