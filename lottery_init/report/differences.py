"""`differences.png`: each claim's pairs, difference against weights remaining, with 95% bands."""

from matplotlib.figure import Figure

from lottery_init.report.claims import MARGIN, Claim, Pair
from lottery_init.report.figures import remaining_axis
from lottery_init.report.summary import RoundStat


def differences(
    stats: list[RoundStat], judged: list[tuple[Claim, list[Pair]]], margin: float = MARGIN
) -> Figure:
    """One panel per study conclusion: each pair's mean difference (first minus second, points)
    with its 95% confidence band, the zero line, the claim's range shaded and, for "similar",
    the equivalence margin."""
    fig = Figure(figsize=(6 * len(judged), 4.5), layout="constrained")
    axes = fig.subplots(1, len(judged), squeeze=False)[0]
    for ax, (claim, pairs) in zip(axes, judged, strict=True):
        for pair in pairs:
            x = [s.remaining * 100 for s, _, _ in pair.rounds]
            diff = [c.diff * 100 for _, _, c in pair.rounds]
            (line,) = ax.plot(x, diff, marker="o", markersize=3, label=f"{pair.a} − {pair.b}")
            low = [c.ci[0] * 100 for _, _, c in pair.rounds]
            high = [c.ci[1] * 100 for _, _, c in pair.rounds]
            ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2)
        ax.axhline(0, color="black", linewidth=0.8)
        if claim.kind == "similar":
            for bound in (-margin * 100, margin * 100):
                ax.axhline(bound, color="grey", linestyle="--", linewidth=0.8)
        every = [s.remaining for s in stats]
        remaining_axis(ax, every)
        if claim.max_remaining < 1:
            ax.axvspan(claim.max_remaining * 100 * 1.001, min(every) * 100 / 1.15, alpha=0.08)
        ax.set(title=claim.wording, ylabel="difference in test accuracy (points)")
        ax.title.set_fontsize("small")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="x-small")
    return fig
