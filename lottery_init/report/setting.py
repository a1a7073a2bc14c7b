"""One setting's report: its figures, tables, conclusions, stability and experiment sections."""

from pathlib import Path

from lottery_init.models.initializers import InitMethod
from lottery_init.report import distributions, figures
from lottery_init.report.anatomy import ticket_section
from lottery_init.report.claims import CLAIMS, Claim, Pair, judge_all
from lottery_init.report.conclusions import conclusions
from lottery_init.report.differences import differences
from lottery_init.report.layer_scale import layer_scale_section
from lottery_init.report.layers import layers_section
from lottery_init.report.matrix import Row
from lottery_init.report.narrow import narrow_section
from lottery_init.report.read.sweep import Sweep
from lottery_init.report.stability import breaks, stability_section
from lottery_init.report.statistics.signed_rank import pair_tests
from lottery_init.report.summary import RoundStat, round_stats, thresholds
from lottery_init.report.tables import power_table, summary_markdown, write_csv, write_pairs_csv

FIGURES = {
    "tickets.png": "Round-end test accuracy against weights remaining (mean ± std over seeds)",
    "differences.png": "Each conclusion's pairs: difference with its 95% confidence band",
    "curves.png": "Test accuracy over every epoch of the run (mean ± std over seeds)",
    "remaining.png": "Weights remaining over the epochs of one run",
    "init_distributions.png": "Each init method's density per layer: formula and sampled weights",
}


Judged = list[tuple[Claim, list[Pair]]]


def init_methods(sweep: Sweep) -> list[InitMethod]:
    """The init methods of the sweep, each formula once under its label (without any per-layer
    scales or pruning variant an arm adds)."""
    bases = {arm.base for arm in sweep.arms.values()}
    return sorted(
        (InitMethod(a.label, a.scheme, a.distribution, a.scale, a.gain) for a in bases),
        key=lambda m: m.name,
    )


def left_out(sweep: Sweep) -> list[str]:
    """Markdown lines on the runs the means leave out, and on unfinished runs."""
    lines = [f"- {init}, seed {seed}: {why}" for init, seed, why in sweep.left_out]
    lines += [
        f"- {r.label}, seed {r.seed}: still running, {len(r.rounds)} rounds so far (used)"
        for r in sweep.running
    ]
    return lines or ["- none: every init × seed pair has a finished run"]


def power_section(judged: list[tuple[Claim, list[Pair]]]) -> list[str]:
    """Whether to run more seeds: per round, what the sweep can detect and what 0.1 needs."""
    if not any(pairs for _, pairs in judged):
        return []
    return [
        "## Power: is it worth running more seeds?",
        "",
        "Per round, over the conclusions' pairs: the spread (sd of the per-seed differences "
        "where seeds pair), the smallest difference a two-sided test at p < 0.05 detects with "
        "80% power at the sweep's number of seeds, and the seeds per method a 0.1-point "
        "difference needs (statsmodels' t-test power).",
        "",
        *power_table(judged),
        "",
    ]


def write_figures(
    sweep: Sweep, stats: list[RoundStat], judged: Judged, margin: float, out: Path
) -> None:
    """The report's figures of one setting, as files in `out`."""
    runs = [run for group in sweep.usable.values() for run in group]
    drawn = {
        "tickets.png": figures.tickets(stats, {k: a.scale for k, a in sweep.arms.items()}),
        "differences.png": differences(stats, judged, margin),
        "curves.png": figures.curves(sweep.usable),
        "remaining.png": figures.remaining(max(runs, key=lambda r: len(r.metrics))),
        "init_distributions.png": distributions.init_distributions(
            init_methods(sweep), runs[0].config
        ),
    }
    for name, fig in drawn.items():
        fig.savefig(out / name, dpi=110)


def write_setting(sweep: Sweep, out: Path, title: str, margin: float, break_margin: float) -> Row:
    """One setting's report in `out`; returns its line of the verdict matrix."""
    out.mkdir(parents=True, exist_ok=True)
    stats = round_stats(sweep.usable)
    runs = [run for group in sweep.usable.values() for run in group]
    judged = judge_all(stats, margin)
    write_figures(sweep, stats, judged, margin, out)
    write_csv(out / "summary.csv", stats)
    write_pairs_csv(out / "pairs.csv", judged)
    early = round_stats(sweep.usable, key="early_stop_test_acc")
    summary = summary_markdown(stats, thresholds(stats), early)
    (out / "summary.md").write_text(summary)
    seeds = len({r.seed for r in runs})
    text = [f"# Report: {title}", ""]
    text += [f"{len(runs)} runs used ({len(sweep.usable)} arms, {seeds} seeds).", ""]
    text += ["## Runs left out of the means", "", *left_out(sweep), ""]
    text += [line for fig, caption in FIGURES.items() for line in (f"![{caption}]({fig})", "")]
    text += [summary, conclusions(stats, judged, margin), *power_section(judged)]
    # Holm over every conclusion's pairs, in the section and in the matrix alike.
    pairs = [pair for claim in CLAIMS for pair in claim.pairs]
    points = breaks(sweep.usable, break_margin)
    tests = pair_tests(points, pairs)
    text += stability_section(sweep.usable, tests, break_margin, out)
    text += layers_section(sweep.usable, points, out)
    text += narrow_section(stats, sweep.arms, out)
    text += layer_scale_section(stats, sweep.arms)
    text += ticket_section(runs, out)
    text += ["## Init formulas against sampled weights", ""]
    text += distributions.init_check(init_methods(sweep), runs[0].config)
    (out / "report.md").write_text("\n".join(text) + "\n")
    steady = [t for t in tests if (t.a, t.b) in CLAIMS[-1].pairs]
    return Row(judged, seeds, steady)
