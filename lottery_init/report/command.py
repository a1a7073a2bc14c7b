"""`python -m lottery_init.report SWEEP_DIR`: a sweep's figures, tables and conclusions.

Reads `run.json` and `metrics.csv` files only (any depth, any launcher, finished or not) and
writes `SWEEP_DIR/report/` (one `report/<dataset>/` per dataset where runs of several datasets
share the folder): tickets.png, differences.png, init_distributions.png,
remaining.png, curves.png, summary.csv, pairs.csv, summary.md and report.md, and, where runs
hold `masks.npz`, anatomy.png and overlap.png.
"""

import argparse
from collections.abc import Sequence
from pathlib import Path

from lottery_init.initializers import InitMethod
from lottery_init.report import distributions, figures
from lottery_init.report.anatomy import ticket_section
from lottery_init.report.claims import MARGIN, Claim, Pair, judge_all
from lottery_init.report.conclusions import conclusions
from lottery_init.report.differences import differences
from lottery_init.report.layer_scale import layer_scale_section
from lottery_init.report.summary import round_stats, thresholds
from lottery_init.report.sweep import Sweep, load_sweep, read_runs
from lottery_init.report.tables import power_table, summary_markdown, write_csv, write_pairs_csv

FIGURES = {
    "tickets.png": "Round-end test accuracy against weights remaining (mean ± std over seeds)",
    "differences.png": "Each conclusion's pairs: difference with its 95% confidence band",
    "curves.png": "Test accuracy over every epoch of the run (mean ± std over seeds)",
    "remaining.png": "Weights remaining over the epochs of one run",
    "init_distributions.png": "Each init method's density per layer: formula and sampled weights",
}


class NoUsableRuns(ValueError):
    """A folder that holds no run a report can use: none running or done."""


def init_methods(sweep: Sweep) -> list[InitMethod]:
    """The init methods of the sweep, as their runs recorded them, each once (their formulas,
    without any per-layer scales a variant adds)."""
    methods = {
        runs[0].init: runs[0].config["init"] | {"layer_scales": None}
        for runs in sweep.usable.values()
    }
    return [InitMethod(**config) for _, config in sorted(methods.items())]


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


def write_reports(sweep_dir: Path, margin: float = MARGIN) -> list[Path]:
    """The sweep's report in `report/`, or, where it holds runs of several datasets, one report
    per dataset in `report/<dataset>/`, so that no mean or test mixes datasets."""
    datasets = sorted({run.dataset for run in read_runs(sweep_dir)})
    if len(datasets) <= 1:
        return [write_report(sweep_dir, margin)]
    return [write_report(sweep_dir, margin, dataset) for dataset in datasets]


def write_report(sweep_dir: Path, margin: float = MARGIN, dataset: str | None = None) -> Path:
    """Write every figure and table of the sweep under `sweep_dir` (its runs of `dataset`,
    when given) into its `report/` folder (`report/<dataset>/`)."""
    sweep = load_sweep(sweep_dir, dataset)
    if not sweep.usable:
        raise NoUsableRuns(f"No usable run under {sweep_dir}: no run.json that is running or done.")
    out = Path(sweep_dir) / "report" / (dataset or "")
    out.mkdir(parents=True, exist_ok=True)
    stats = round_stats(sweep.usable)
    runs = [run for group in sweep.usable.values() for run in group]
    methods = init_methods(sweep)
    judged = judge_all(stats, margin)
    drawn = {
        "tickets.png": figures.tickets(stats),
        "differences.png": differences(stats, judged, margin),
        "curves.png": figures.curves(sweep.usable),
        "remaining.png": figures.remaining(max(runs, key=lambda r: len(r.metrics))),
        "init_distributions.png": distributions.init_distributions(methods, runs[0].config),
    }
    for name, fig in drawn.items():
        fig.savefig(out / name, dpi=110)
    write_csv(out / "summary.csv", stats)
    write_pairs_csv(out / "pairs.csv", judged)
    early = round_stats(sweep.usable, key="early_stop_test_acc")
    summary = summary_markdown(stats, thresholds(stats), early)
    (out / "summary.md").write_text(summary)
    seeds = len({r.seed for r in runs})
    text = [f"# Report: {Path(sweep_dir).name}, {runs[0].dataset}", ""]
    text += [f"{len(runs)} runs used ({len(sweep.usable)} init methods, {seeds} seeds).", ""]
    text += ["## Runs left out of the means", "", *left_out(sweep), ""]
    text += [line for name, caption in FIGURES.items() for line in (f"![{caption}]({name})", "")]
    text += [summary, conclusions(stats, judged, margin), *power_section(judged)]
    text += layer_scale_section(stats)
    text += ticket_section(runs, out)
    text += ["## Init formulas against sampled weights", ""]
    text += distributions.init_check(methods, runs[0].config)
    (out / "report.md").write_text("\n".join(text) + "\n")
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: the sweep folder in, `report/` out."""
    parser = argparse.ArgumentParser(
        prog="python -m lottery_init.report",
        description="The study's figures, tables and verdicts from a sweep.",
    )
    parser.add_argument("sweep_dir", type=Path, help="a sweep (or any folder) holding run folders")
    parser.add_argument(
        "--margin",
        type=float,
        default=MARGIN * 100,
        help="equivalence margin in accuracy points for the 'similar' conclusion (default "
        f"{MARGIN * 100:g}: 20 of the 10,000 test images, below what the study's figure tells "
        "apart; methods count as equivalent when TOST shows their difference within ±margin)",
    )
    args = parser.parse_args(argv)
    try:
        outs = write_reports(args.sweep_dir, args.margin / 100)
    except NoUsableRuns as error:
        # The command's one sentence and exit status 1, not a traceback.
        raise SystemExit(str(error)) from None
    for out in outs:
        print(f"report written to {out}/ (start with report.md)")


if __name__ == "__main__":
    main()
