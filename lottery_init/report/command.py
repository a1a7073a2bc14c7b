"""`python -m lottery_init.report SWEEP_DIR`: a sweep's figures, tables and conclusions.

Reads `run.json` and `metrics.csv` files only (any depth, any launcher, finished or not) and
writes `SWEEP_DIR/report/` (one `report/<setting>/` per setting, with an index and the verdict
matrix in `report/report.md`, where runs of several settings share the folder): tickets.png,
differences.png, init_distributions.png, remaining.png, curves.png, stability.png,
summary.csv, pairs.csv, summary.md and report.md; narrow.png where an init family was swept
over scales, rates.png where pruning rates or intervals were, at_init.png where runs pruned at
initialization (compared with IMP's runs at equal weights remaining, in the index); anatomy.png
and overlap.png where runs hold `masks.npz`.
"""

import argparse
from collections.abc import Sequence
from pathlib import Path

from lottery_init.report.at_init.runs import is_one_shot
from lottery_init.report.at_init.section import at_init_section
from lottery_init.report.claims import MARGIN
from lottery_init.report.matrix import verdict_matrix
from lottery_init.report.rates import rates_section
from lottery_init.report.read.names import folder_name, setting_names
from lottery_init.report.read.sweep import load_sweep, read_runs, sweep_of
from lottery_init.report.setting import write_setting
from lottery_init.report.stability import BREAK_MARGIN
from lottery_init.runs.layout import REPORT, RUN_JSON


class NoUsableRuns(ValueError):
    """A folder that holds no run a report can use: none running or done."""


def write_reports(
    sweep_dir: Path, margin: float = MARGIN, break_margin: float = BREAK_MARGIN
) -> list[Path]:
    """The sweep's report in `report/`, or, where it holds runs of several settings (model,
    dataset, pruning settings, ...), one report per setting in `report/<setting>/` and an index
    in `report/` with the verdict matrix, so that no mean or test mixes settings."""
    # Failed runs count for no setting: a failed job of another config changes no layout. Runs
    # pruned at initialization train one round, so they are compared in a section of their own.
    runs = read_runs(sweep_dir)
    one_shot = [r for r in runs if is_one_shot(r)]
    runs = [r for r in runs if not is_one_shot(r)]
    settings = sorted({run.setting for run in runs if run.status != "failed"})
    if len(settings) <= 1 and not one_shot:
        return [write_report(sweep_dir, margin, settings[0] if settings else None, break_margin)]
    names = setting_names(settings)
    root = Path(sweep_dir) / REPORT
    root.mkdir(parents=True, exist_ok=True)
    outs, rows, usable = [], {}, []
    for setting in settings:
        name, sweep = names[setting], sweep_of([r for r in runs if r.setting == setting])
        out = root / folder_name(name)
        title = f"{Path(sweep_dir).name}, {name}"
        rows[name] = write_setting(sweep, out, title, margin, break_margin)
        usable += [r for group in sweep.usable.values() for r in group]
        outs.append(out)
    count = f", {len(outs)} setting" + ("s" if len(outs) > 1 else "") if outs else ""
    title = f"# Report: {Path(sweep_dir).name}{count}"
    text = [title, ""]
    text += [f"- [{name}]({out.name}/report.md)" for name, out in zip(rows, outs, strict=True)]
    text += ["", *verdict_matrix(rows, margin)] if rows else []
    text += rates_section(usable, root)
    text += at_init_section(one_shot, usable, root)
    (root / "report.md").write_text("\n".join(text) + "\n")
    return [root, *outs]


def write_report(
    sweep_dir: Path,
    margin: float = MARGIN,
    setting: str | None = None,
    break_margin: float = BREAK_MARGIN,
) -> Path:
    """Write every figure and table of the sweep under `sweep_dir` (its runs of `setting`, when
    given) into its `report/` folder."""
    sweep = load_sweep(sweep_dir, setting)
    if not sweep.usable:
        raise NoUsableRuns(
            f"No usable run under {sweep_dir}: no {RUN_JSON} that is running or done."
        )
    out = Path(sweep_dir) / REPORT
    any_run = next(iter(sweep.usable.values()))[0]
    name = setting_names([any_run.setting])[any_run.setting]
    row = write_setting(sweep, out, f"{Path(sweep_dir).name}, {name}", margin, break_margin)
    matrix = verdict_matrix({name: row}, margin)
    with open(out / "report.md", "a") as f:
        f.write("\n".join(matrix) + "\n")
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
    parser.add_argument(
        "--break-margin",
        type=float,
        default=BREAK_MARGIN * 100,
        help="stability: a seed's ticket holds while its round-end accuracy stays within this "
        f"many points of its own dense accuracy (default {BREAK_MARGIN * 100:g}: above a healthy "
        "ticket's noise, below a collapse)",
    )
    args = parser.parse_args(argv)
    try:
        outs = write_reports(args.sweep_dir, args.margin / 100, args.break_margin / 100)
    except NoUsableRuns as error:
        # The command's one sentence and exit status 1, not a traceback.
        raise SystemExit(str(error)) from None
    for out in outs:
        print(f"report written to {out}/ (start with report.md)")


if __name__ == "__main__":
    main()
