"""The report's tables: `summary.csv` and the markdown of `summary.md`."""

import csv
import math
from collections.abc import Sequence
from pathlib import Path

from lottery_init.report.claims import Claim, Pair
from lottery_init.report.statistics.t_tests import ALPHA, Comparison, detectable, seeds_needed
from lottery_init.report.summary import RoundStat, Threshold, best_of


def _acc(value: float) -> str:
    return "–" if math.isnan(value) else f"{value * 100:.2f}"


COMPARISON = ["test", "n_a", "n_b", "diff", "ci_low", "ci_high", "effect", "correlation"]


def _comparison(c: Comparison | None) -> list:
    """A comparison's CSV cells (empty when there is none)."""
    if c is None:
        return [""] * (len(COMPARISON) + 1)
    return [c.test, *c.n, c.diff, *c.ci, c.effect, c.correlation, c.p_holm]


def write_csv(path: Path, stats: list[RoundStat]) -> None:
    """One row per init method and round: remaining, n, mean, std, and the comparison with the
    round's best method (method minus best, 95% CI, effect, Holm p over the round)."""
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        head = ["init", "round", "remaining", "n", "mean_test_acc", "std_test_acc"]
        out.writerow(head + [f"{c}_vs_best" for c in COMPARISON] + ["p_vs_best_holm"])
        for s in stats:
            out.writerow(
                [s.init, s.round, s.remaining, s.n, s.mean, s.std, *_comparison(s.vs_best)]
            )


def write_pairs_csv(path: Path, judged: list[tuple[Claim, list[Pair]]]) -> None:
    """One row per claim, pair and round: the comparison (a minus b), Holm p over the pair's
    rounds in the claim's range, and the equivalence (TOST) p for "similar" claims."""
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["claim", "a", "b", "round", "remaining", *COMPARISON, "p_holm", "tost_p"])
        for number, (_, pairs) in enumerate(judged, 1):
            for pair in pairs:
                tost = pair.tost or [""] * len(pair.rounds)
                for (x, _, c), t in zip(pair.rounds, tost, strict=True):
                    out.writerow([number, pair.a, pair.b, x.round, x.remaining, *_comparison(c), t])


def power_table(judged: list[tuple[Claim, list[Pair]]]) -> list[str]:
    """Per round, over the claims' pairs: the smallest difference detectable with 80% power at
    the sweep's seeds and observed spread, and the seeds a 0.1-point difference needs."""
    rounds: dict[int, list] = {}
    for _, pairs in judged:
        for pair in pairs:
            for x, _, c in pair.rounds:
                rounds.setdefault(x.round, []).append((x.remaining, c))
    lines = ["| round | remaining | seeds | sd (points) | detectable (points) | seeds for 0.1 |"]
    lines.append("|---|---|---|---|---|---|")
    for r, cells in sorted(rounds.items()):
        comps = [c for _, c in cells]
        # The root mean square of the pairs' spreads, under the design most pairs used.
        sd = math.sqrt(sum(c.sd**2 for c in comps) / len(comps))
        n, paired = min(min(c.n) for c in comps), all(c.paired for c in comps)
        lines.append(
            f"| {r} | {cells[0][0]:.1%} | {n} | {sd * 100:.3f} | "
            f"{detectable(sd, n, paired) * 100:.2f} | {seeds_needed(sd, 0.001, paired)} |"
        )
    return lines


def accuracy_table(stats: list[RoundStat]) -> list[str]:
    """Rounds down, methods across: mean ± std (n) of round-end test accuracy, in percent."""
    inits = sorted({s.init for s in stats})
    cells = {(s.init, s.round): s for s in stats}
    lines = ["| round | remaining | " + " | ".join(inits) + " |", "|---|---|" + "---|" * len(inits)]
    for r in sorted({s.round for s in stats}):
        row = [cells.get((i, r)) for i in inits]
        remaining = next(s.remaining for s in row if s is not None)
        text = [f"{_acc(s.mean)} ± {_acc(s.std)} ({s.n})" if s else "" for s in row]
        lines.append(f"| {r} | {remaining:.1%} | " + " | ".join(text) + " |")
    return lines


def threshold_table(limits: list[Threshold]) -> list[str]:
    """Per method: dense accuracy and the smallest remaining fractions holding winning tickets."""
    lines = ["| init | dense test acc (%) | winning tickets down to (mean) | every seed down to |"]
    lines.append("|---|---|---|---|")
    lines += [
        f"| {t.init} | {_acc(t.dense)} | {t.by_mean:.1%} | {t.every_seed:.1%} |" for t in limits
    ]
    return lines


def significance_table(stats: list[RoundStat]) -> list[str]:
    """Per round: the best method, and which others differ from it (Holm-adjusted p)."""
    lines = [
        "| round | remaining | best (mean %) | significantly below the best "
        "| not significantly below |"
    ]
    lines.append("|---|---|---|---|---|")
    for r in sorted({s.round for s in stats}):
        best = best_of(stats, r)
        others = sorted(
            (s for s in stats if s.round == r and s is not best), key=lambda s: s.p_vs_best
        )
        below = ", ".join(f"{s.init} (p = {s.p_vs_best:.2g})" for s in others if s.significant)
        level = ", ".join(f"{s.init} (p = {s.p_vs_best:.2g})" for s in others if not s.significant)
        lines.append(
            f"| {r} | {best.remaining:.1%} | {best.init} ({_acc(best.mean)}) "
            f"| {below or '–'} | {level or '–'} |"
        )
    return lines


def summary_markdown(
    stats: list[RoundStat], limits: list[Threshold], early: Sequence[RoundStat] = ()
) -> str:
    """`summary.md`: the three tables, with what each number means; with a validation split,
    also the test accuracy at each round's early-stopping epoch."""
    parts = [
        "## Test accuracy at the end of each round (%)",
        "",
        "Mean ± standard deviation over seeds (n seeds), measured right before pruning.",
        "",
        *accuracy_table(stats),
        "",
        "## Winning tickets",
        "",
        "Smallest weights-remaining fraction at which the method's mean round-end test accuracy "
        "is at least its own dense (round 0) mean, and at which every seed's accuracy is at "
        "least that seed's own dense accuracy.",
        "",
        *threshold_table(limits),
        "",
        "## Which methods differ from the best one",
        "",
        "Each method against the round's best mean: paired t-test over the seeds both ran "
        "(Welch's test where seeds do not pair), Holm-corrected over the other methods of the "
        f"round; significant: p < {ALPHA}.",
        "",
        *significance_table(stats),
    ]
    if early:
        parts += [
            "",
            "## Test accuracy at each round's early-stopping epoch (%)",
            "",
            "The epoch of least validation loss within the round (Frankle & Carbin 2019).",
            "",
            *accuracy_table(list(early)),
        ]
    return "\n".join(parts) + "\n"
