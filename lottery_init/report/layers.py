"""Per-layer survivors in the collapse: the weights each layer keeps at each seed's breaking
round, the round where the output layer falls below a few weights per class, and each layer's
remaining fraction by round (from each round's `layer_remaining` in `run.json`, which records
the masks of `masks.npz`)."""

import functools
import json
import statistics
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from lottery_init.pruning.masks import prunable
from lottery_init.report.distributions import run_model
from lottery_init.report.read.sweep import Run
from lottery_init.report.statistics.signed_rank import Break

# A class whose score rests on fewer than 3 output weights (of the 100 hidden units LeNet-300-100
# feeds it) is starved: the study's schedule gets there at round 16 (1000 x 0.8^16 = 28 weights
# for 10 classes), Frankle & Carbin's half rate for the output layer never does in 20 rounds.
FEW_PER_CLASS = 3


@functools.cache
def _sizes(model: str) -> tuple[tuple[int, ...], int]:
    """Weights per prunable layer and output classes of a model config (as JSON)."""
    weights = prunable(run_model({"model": json.loads(model)}))
    return tuple(w[0].numel() for w in weights), int(weights[-1].shape[1])


def layer_sizes(run: Run) -> tuple[tuple[int, ...], int]:
    """The run's weights per prunable layer, and its number of classes (the output layer's)."""
    return _sizes(json.dumps(run.config.get("model", {}), sort_keys=True))


def _counts(entry: dict, sizes: Sequence[int]) -> list[int] | None:
    """Weights each layer keeps in a round-table `entry`, from its per-layer fractions."""
    # A record of other layers than the config's model builds (edited by hand) says nothing.
    if len(entry.get("layer_remaining", ())) != len(sizes):
        return None
    return [round(f * n) for f, n in zip(entry["layer_remaining"], sizes, strict=True)]


def kept(run: Run, round_: int) -> list[int] | None:
    """Weights each layer keeps in round `round_`; None where run.json does not record them."""
    entry = next((e for e in run.rounds if e["round"] == round_), None)
    return None if entry is None else _counts(entry, layer_sizes(run)[0])


def starved_round(run: Run, few: int = FEW_PER_CLASS) -> int | None:
    """The first round whose output layer keeps fewer than `few` weights per class."""
    sizes, classes = layer_sizes(run)
    for entry in sorted(run.rounds, key=lambda e: e["round"]):
        counts = _counts(entry, sizes)
        if counts is not None and counts[-1] < few * classes:
            return entry["round"]
    return None


def median_starved_round(runs: Sequence[Run], few: int = FEW_PER_CLASS) -> float | None:
    """The median over seeds of `starved_round`, over the runs that reach it."""
    found = [r for run in runs if (r := starved_round(run, few)) is not None]
    return statistics.median(found) if found else None


def breaking_layers_table(
    usable: dict[str, list[Run]], points: dict[str, list[Break]]
) -> list[str]:
    """Markdown rows, one per seed: its breaking round and the weights each layer keeps there,
    the output layer's also per class."""
    first = next(iter(usable.values()))[0]
    sizes, classes = layer_sizes(first)
    layers = len(sizes)
    head = " | ".join(f"layer {i + 1} (of {n:,})" for i, n in enumerate(sizes))
    lines = [
        f"| init | seed | breaking round | {head} | output weights per class |",
        "|---" * (4 + layers) + "|",
    ]
    for label, found in points.items():
        runs = {run.seed: run for run in usable[label]}
        for point in sorted(found, key=lambda p: p.seed):
            counts = kept(runs[point.seed], point.round)
            if counts is None:
                continue
            cells = " | ".join(f"{c:,}" for c in counts)
            held = " (held)" if point.held else ""
            lines.append(
                f"| {label} | {point.seed} | {point.round}{held} | {cells} "
                f"| {counts[-1] / classes:.1f} |"
            )
    return lines if len(lines) > 2 else []


def layers_figure(usable: dict[str, list[Run]]) -> Figure:
    """One panel per layer: its remaining fraction against the round, per method (mean over
    seeds), with the output layer's starving line (`FEW_PER_CLASS` weights per class)."""
    first = next(iter(usable.values()))[0]
    sizes, classes = layer_sizes(first)
    fig = Figure(figsize=(4.2 * len(sizes), 3.6), layout="constrained")
    axes = fig.subplots(1, len(sizes), squeeze=False)[0]
    for label, runs in sorted(usable.items()):
        by_round: dict[int, list[list[float]]] = {}
        for run in runs:
            for entry in run.rounds:
                if len(entry.get("layer_remaining", ())) == len(sizes):
                    by_round.setdefault(entry["round"], []).append(entry["layer_remaining"])
        rounds = sorted(by_round)
        for layer, ax in enumerate(axes):
            means = [statistics.fmean(v[layer] for v in by_round[r]) * 100 for r in rounds]
            ax.plot(rounds, means, marker=".", label=label)
    for layer, ax in enumerate(axes):
        ax.set(yscale="log", xlabel="round", title=f"layer {layer + 1} ({sizes[layer]:,} weights)")
    axes[-1].axhline(100 * FEW_PER_CLASS * classes / sizes[-1], color="0.5", linestyle=":")
    axes[0].set_ylabel("weights remaining in the layer (%)")
    axes[-1].legend(fontsize="x-small", title=f"dotted: {FEW_PER_CLASS} per class")
    return fig


def layers_section(
    usable: dict[str, list[Run]], points: dict[str, list[Break]], out: Path
) -> list[str]:
    """The report's per-layer view of the collapse: writes `out / "layers.png"`, returns its
    markdown (the figure, each seed's survivors per layer at its breaking round); [] when no run
    records its layers' remaining fractions."""
    table = breaking_layers_table(usable, points)
    if not table:
        return []
    layers_figure(usable).savefig(out / "layers.png", dpi=110)
    return [
        "### Which layer runs out: weights kept per layer",
        "",
        "Each layer's weights remaining by round (mean over seeds); the dotted line is "
        f"{FEW_PER_CLASS} output weights per class, below which a class's score rests on a few "
        "hidden units (marked in stability.png too). Then, per seed, the weights each layer keeps "
        "at its breaking round.",
        "",
        "![Weights remaining per layer against the round](layers.png)",
        "",
        *table,
        "",
    ]
