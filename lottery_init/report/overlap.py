"""Whether runs find the same tickets: Jaccard overlap of masks, against random masks."""

import itertools
import math
from collections.abc import Mapping, Sequence
from functools import cache
from statistics import mean

import numpy as np
from matplotlib.figure import Figure
from scipy.stats import hypergeom

from lottery_init.report.figures import remaining_axis

# Masks by run label, then seed, then round: one boolean array per layer.
Masks = Mapping[str, Mapping[int, Mapping[int, Sequence[np.ndarray]]]]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|a ∧ b| / |a ∨ b| of two boolean masks (1 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


@cache
def random_jaccard(n: int, k1: int, k2: int) -> float:
    """The expected Jaccard overlap of two independent uniformly random masks with k1 and k2
    of n entries kept: the shared count is hypergeometric (n, k1, k2)."""
    shared = np.arange(max(0, k1 + k2 - n), min(k1, k2) + 1)
    union = k1 + k2 - shared
    ratio = np.divide(shared, union, out=np.ones(len(shared)), where=union > 0)
    return float(np.sum(hypergeom(n, k1, k2).pmf(shared) * ratio))


def overlap_rows(masks: Masks, rounds: Sequence[int]) -> list[dict]:
    """Per round and layer: mean Jaccard between seeds of each method, between each pair of
    methods at the same seed, and what random masks of the same sizes would share."""
    rows = []
    for r, layer in itertools.product(rounds, range(_layers(masks))):
        at = {
            label: {s: by_round[r][layer] for s, by_round in seeds.items() if r in by_round}
            for label, seeds in masks.items()
        }
        for label, by_seed in at.items():
            pairs = list(itertools.combinations(by_seed.values(), 2))
            rows += _row(r, layer, f"{label}: seed vs seed", pairs)
        for (a, sa), (b, sb) in itertools.combinations(at.items(), 2):
            pairs = [(sa[s], sb[s]) for s in sorted(sa.keys() & sb.keys())]
            rows += _row(r, layer, f"{a} vs {b}: same seed", pairs)
    return rows


def _layers(masks: Masks) -> int:
    """The number of layers of the masks (every run has the same model)."""
    seeds = next(iter(masks.values()))
    return len(next(iter(next(iter(seeds.values())).values())))


def _row(r: int, layer: int, what: str, pairs: list[tuple[np.ndarray, np.ndarray]]) -> list[dict]:
    """One table row for a comparison's pairs of masks, or none without a pair."""
    if not pairs:
        return []
    a, b = pairs[0]
    random = mean(random_jaccard(a.size, int(x.sum()), int(y.sum())) for x, y in pairs)
    return [
        {
            "round": r,
            "layer": layer + 1,
            "remaining": float(a.mean()),
            "comparison": what,
            "pairs": len(pairs),
            "jaccard": mean(jaccard(x, y) for x, y in pairs),
            "random": random,
        }
    ]


def overlap_table(rows: list[dict]) -> list[str]:
    """Markdown rows of `overlap_rows`."""
    lines = ["| round | layer remaining | layer | comparison | pairs | Jaccard | random masks |"]
    lines.append("|---|---|---|---|---|---|---|")
    lines += [
        f"| {r['round']} | {r['remaining']:.1%} | {r['layer']} | {r['comparison']} "
        f"| {r['pairs']} | {r['jaccard']:.3f} | {r['random']:.3f} |"
        for r in rows
    ]
    return lines


# More comparisons than this are drawn as two means: seed vs seed, and methods at one seed.
MOST_LINES = 12


def _pooled(rows: list[dict]) -> list[dict]:
    """The rows as two comparisons, each the mean Jaccard per round and layer."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        kind = (
            "seed vs seed (mean)"
            if "seed vs seed" in r["comparison"]
            else "methods at one seed (mean)"
        )
        groups.setdefault((kind, r["round"], r["layer"]), []).append(r)
    return [
        group[0] | {"comparison": kind, "jaccard": mean(r["jaccard"] for r in group)}
        for (kind, _, _), group in groups.items()
    ]


def overlap_figure(rows: list[dict]) -> Figure:
    """Per layer: Jaccard overlap against the layer's weights remaining, each comparison a
    line (or two means, past MOST_LINES comparisons), random masks of the same sizes dashed."""
    if len({r["comparison"] for r in rows}) > MOST_LINES:
        rows = _pooled(rows)
    layers = sorted({r["layer"] for r in rows})
    fig = Figure(figsize=(5.5 * len(layers), 4.5), layout="constrained")
    axes = fig.subplots(1, len(layers), squeeze=False)[0]
    for ax, layer in zip(axes, layers, strict=True):
        mine = [r for r in rows if r["layer"] == layer]
        for what in dict.fromkeys(r["comparison"] for r in mine):
            line = sorted(
                (100 * r["remaining"], r["jaccard"]) for r in mine if r["comparison"] == what
            )
            style = "-" if "seed vs seed" in what else ":"
            ax.plot(*zip(*line, strict=True), style, marker=".", label=what)
        base = sorted({(100 * r["remaining"], r["random"]) for r in mine})
        ax.plot(*zip(*base, strict=True), "k--", label="random masks")
        remaining_axis(ax, [r["remaining"] for r in mine])
        ax.set(title=f"layer {layer}", ylabel="Jaccard overlap of masks", ylim=(0, 1.02))
    axes[0].legend(fontsize="xx-small")
    return fig


def nearest_rounds(remaining: Mapping[int, float], targets: Sequence[float]) -> list[int]:
    """The rounds whose remaining fraction is nearest each target (in log scale), each once,
    leaving out targets beyond the last round by more than half a round."""
    chosen = []
    for target in targets:
        r = min(remaining, key=lambda k: abs(math.log(remaining[k] / target)))
        if abs(math.log(remaining[r] / target)) < 0.12 and r not in chosen:
            chosen.append(r)
    return chosen
