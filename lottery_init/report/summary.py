"""The study's numbers from a sweep: per-round means, winning-ticket thresholds, significance."""

import math
from dataclasses import dataclass

from lottery_init.report.read.sweep import Run
from lottery_init.report.statistics.t_tests import ALPHA, Comparison, compare, holm, mean_std


@dataclass
class RoundStat:
    """Test accuracy at the end of one round for one init method, over its seeds."""

    init: str
    round: int
    remaining: float
    accs: dict[int, float]
    mean: float
    std: float
    vs_best: Comparison | None = None  # against the round's best method, Holm over the round

    @property
    def n(self) -> int:
        return len(self.accs)

    @property
    def p_vs_best(self) -> float:
        return self.vs_best.p_holm if self.vs_best else math.nan

    @property
    def significant(self) -> bool:
        return self.p_vs_best < ALPHA


@dataclass
class Threshold:
    """Dense accuracy and the smallest remaining fraction that still holds winning tickets."""

    init: str
    dense: float
    by_mean: float  # mean accuracy at round end >= the method's dense mean
    every_seed: float  # every seed's accuracy >= its own dense accuracy


def round_stats(usable: dict[str, list[Run]], key: str = "test_acc") -> list[RoundStat]:
    """Mean and standard deviation over seeds of each method's round-end test accuracy (or of
    another round-table entry, e.g. `early_stop_test_acc`; rounds without it are left out)."""
    stats = []
    for init, runs in sorted(usable.items()):
        rounds: dict[int, list[tuple[int, dict]]] = {}
        for run in runs:
            for entry in run.rounds:
                if key in entry:
                    rounds.setdefault(entry["round"], []).append((run.seed, entry))
        for r, entries in sorted(rounds.items()):
            accs = {seed: e[key] for seed, e in entries}
            remaining = sum(e["remaining"] for _, e in entries) / len(entries)
            stats.append(RoundStat(init, r, remaining, accs, *mean_std(list(accs.values()))))
    compare_with_best(stats)
    return stats


def compare_with_best(stats: list[RoundStat]) -> None:
    """Per round, every method against the best mean (method minus best; paired where seeds
    pair), Holm-corrected over the round's other methods."""
    for r in sorted({s.round for s in stats}):
        row = [s for s in stats if s.round == r]
        best = max(row, key=lambda s: s.mean)
        others = [s for s in row if s is not best]
        for s in others:
            s.vs_best = compare(s.accs, best.accs)
        tested = [s for s in others if s.vs_best]
        for s, p in zip(tested, holm([s.vs_best.p for s in tested]), strict=True):
            s.vs_best.p_holm = p


def best_of(stats: list[RoundStat], r: int) -> RoundStat:
    """The method with the highest mean in round `r`."""
    return max((s for s in stats if s.round == r), key=lambda s: s.mean)


def thresholds(stats: list[RoundStat]) -> list[Threshold]:
    """Each method's dense (round 0) accuracy and smallest winning-ticket remaining fractions."""
    result = []
    for init in sorted({s.init for s in stats}):
        rows = [s for s in stats if s.init == init]
        dense = next((s for s in rows if s.round == 0), None)
        if dense is None:
            continue
        by_mean = [s.remaining for s in rows if s.mean >= dense.mean]
        every = [
            s.remaining
            for s in rows
            if all(acc >= dense.accs[seed] for seed, acc in s.accs.items() if seed in dense.accs)
        ]
        result.append(Threshold(init, dense.mean, min(by_mean), min(every)))
    return result


def pair_rounds(
    stats: list[RoundStat], a: str, b: str, max_remaining: float = 1.0
) -> list[tuple[RoundStat, RoundStat, Comparison]]:
    """Rounds where both methods have results and at most `max_remaining` of the weights remain:
    (a, b, their comparison), Holm-corrected over those rounds."""
    rows = {(s.init, s.round): s for s in stats}
    # Per-layer rounding leaves a round's fraction a little off 0.8^r, hence the tolerance.
    pairs = [
        (rows[a, r], rows[b, r], compare(rows[a, r].accs, rows[b, r].accs))
        for (i, r) in sorted(rows)
        if i == a and (b, r) in rows and rows[a, r].remaining <= max_remaining * 1.001
    ]
    pairs = [(x, y, c) for x, y, c in pairs if c is not None]
    for (_, _, c), p in zip(pairs, holm([c.p for _, _, c in pairs]), strict=True):
        c.p_holm = p
    return pairs
