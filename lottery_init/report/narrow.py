"""Even narrower distributions (the study's Further Research, first item): round-end accuracy
against init scale at the study's reporting sparsities, per distribution family."""

import math
from collections.abc import Mapping
from pathlib import Path

from matplotlib.figure import Figure

from lottery_init.report.read.keys import Arm, times
from lottery_init.report.summary import RoundStat

# The study's sparsities: 0.8^12, 0.8^15 and 0.8^18 of the weights remaining (6.9%, 3.5%, 1.8%).
SPARSITIES = (0.8**12, 0.8**15, 0.8**18)
# Per-layer rounding leaves a round's fraction a little off 0.8^r; 2% apart is another round.
TOLERANCE = 0.02


def families(arms: Mapping[str, Arm]) -> dict[str, dict[float, str]]:
    """Per family (e.g. `xavier_normal`), its plain arms' labels by scale, for the families
    swept over three scales or more (arms with layer scales or a pruning variant left out)."""
    found: dict[str, dict[float, str]] = {}
    for label, arm in arms.items():
        if arm == arm.base and arm.gain == 1:
            found.setdefault(arm.family, {})[arm.scale] = label
    return {f: dict(sorted(by.items())) for f, by in sorted(found.items()) if len(by) >= 3}


def at(stats: list[RoundStat], label: str, remaining: float) -> RoundStat | None:
    """The label's round whose weights remaining is `remaining`, if it ran that far."""
    rows = [s for s in stats if s.init == label and abs(s.remaining / remaining - 1) < TOLERANCE]
    return rows[0] if rows else None


def narrow_figure(stats: list[RoundStat], swept: dict[str, dict[float, str]]) -> Figure:
    """Mean ± std accuracy against init scale (log 2 axis), a line per sparsity, a panel per
    family."""
    fig = Figure(figsize=(6 * len(swept), 4.5), layout="constrained")
    for ax, (family, labels) in zip(
        fig.subplots(1, len(swept), squeeze=False)[0], swept.items(), strict=True
    ):
        for remaining in SPARSITIES:
            points = [(scale, at(stats, label, remaining)) for scale, label in labels.items()]
            points = [(scale, s) for scale, s in points if s is not None]
            if points:
                ax.errorbar(
                    [scale for scale, _ in points],
                    [s.mean * 100 for _, s in points],
                    yerr=[0 if math.isnan(s.std) else s.std * 100 for _, s in points],
                    marker="o",
                    capsize=3,
                    label=f"{remaining:.1%} remaining",
                )
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(labels), [times(scale) for scale in labels])
        ax.set(
            title=family,
            xlabel="init scale (× the formula's spread)",
            ylabel="test accuracy at round end (%)",
        )
        ax.legend(fontsize="small")
    return fig


def narrow_section(stats: list[RoundStat], arms: Mapping[str, Arm], out: Path) -> list[str]:
    """The report's narrow-distribution section and `narrow.png`, or nothing when no family was
    swept over three scales or more."""
    swept = families(arms)
    if not swept:
        return []
    narrow_figure(stats, swept).savefig(out / "narrow.png", dpi=110)
    heads = " | ".join(f"{r:.1%}" for r in SPARSITIES)
    lines = [
        "## Even narrower distributions: accuracy against init scale",
        "",
        "Round-end test accuracy (mean ± sd over seeds, %) of each init scale at the study's "
        "sparsities; blank where the runs stopped earlier.",
        "",
        "![Accuracy against init scale at 6.9%, 3.5% and 1.8% remaining](narrow.png)",
        "",
        f"| family | scale | seeds | {heads} |",
        "|---|---|---|" + "---|" * len(SPARSITIES),
    ]
    for family, labels in swept.items():
        for scale, label in labels.items():
            found = [at(stats, label, r) for r in SPARSITIES]
            seeds = max((s.n for s in found if s is not None), default=0)
            cells = " | ".join(
                "" if s is None else f"{s.mean * 100:.2f} ± {s.std * 100:.2f}" for s in found
            )
            lines.append(f"| {family} | {times(scale)} | {seeds} | {cells} |")
    return [*lines, ""]
