"""The paired test on breaking rounds: Wilcoxon signed-rank over seeds, with its markdown rows
(checked by simulation in `lottery_init.report.statistics.stability_sim`)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from lottery_init.report.statistics.t_tests import ALPHA, holm

# With m seeds whose breaking rounds differ, random signs give the most extreme statistic with
# probability 2 / 2**m (two-sided), so under 6 no signed-rank test can reach p < 0.05; the normal
# approximation would pretend it can (5 all one way: p = 0.043), so no p is given.
MIN_DIFFERING = math.floor(math.log2(2 / ALPHA)) + 1


def signed_rank_p(diffs: np.ndarray) -> np.ndarray:
    """Two-sided p of the Wilcoxon signed-rank test (Wilcoxon 1945) on each row of paired
    differences; NaN for rows with fewer than MIN_DIFFERING nonzero differences."""
    # Breaking rounds are whole rounds, so ties and zero differences are the rule. Pratt's
    # zeros (Pratt 1959) keep the seeds that break at the same round in the ranking rather than
    # drop them, and the normal approximation is corrected for ties and zeros (Cureton 1967),
    # without continuity correction. On `stability_sim`'s noise model (20,000 sweeps) it rejects
    # 3.7% of equal pairs at 11 seeds and 5.0% at 20 (dropping zeros instead: 3.6%, 5.0%; with
    # a continuity correction: 3.2%, 4.8%); the exact permutation null (scipy's "auto" up to 13
    # differences, 1 s a call) rejects only about 2% at 11 seeds on such discrete data.
    rows = np.atleast_2d(np.asarray(diffs, dtype=float))
    p = np.full(len(rows), np.nan)
    testable = np.count_nonzero(rows, axis=1) >= MIN_DIFFERING
    if testable.any():
        result = stats.wilcoxon(rows[testable], zero_method="pratt", method="asymptotic", axis=1)
        p[testable] = result.pvalue
    return p


@dataclass(frozen=True)
class Break:
    """Where one run's ticket breaks: the last round of its unbroken hold from round 0."""

    seed: int
    round: int  # the breaking point: the last round of the hold
    last: int  # the run's last recorded round

    @property
    def held(self) -> bool:
        """Whether it held to its last round, so that `round` is only a lower bound."""
        return self.round == self.last


@dataclass
class PairTest:
    """Method a against method b on breaking rounds, over the seeds both ran."""

    a: str
    b: str
    diffs: list[int]  # a's breaking round minus b's, per common seed in seed order
    p: float  # two-sided; NaN where fewer than MIN_DIFFERING seeds differ
    p_holm: float = math.nan  # over the pairs tested together

    @property
    def a_later(self) -> bool:
        """Whether a's breaking rounds lie later: the sign of the signed ranks' sum, the side
        the test's statistic leans to."""
        ranks = stats.rankdata(np.abs(self.diffs)) * np.sign(self.diffs)
        return bool(ranks.sum() > 0)

    @property
    def later(self) -> tuple[int, int, int]:
        """Seeds on which a breaks later, on which b does, and on which both break together."""
        d = np.asarray(self.diffs)
        return int((d > 0).sum()), int((d < 0).sum()), int((d == 0).sum())


def paired_difference(x: Break, y: Break) -> int:
    """x's breaking round minus y's, both cut at the last round both runs reached (an unfinished
    run's hold is not compared with rounds it has not trained)."""
    horizon = min(x.last, y.last)
    return min(x.round, horizon) - min(y.round, horizon)


def pair_tests(found: dict[str, list[Break]], pairs: Sequence[tuple[str, str]]) -> list[PairTest]:
    """Each pair present, breaking rounds paired by seed (same seed: same data order and
    standard draws); Holm over the pairs (Holm 1979)."""
    tests = []
    for a, b in dict.fromkeys(pairs):
        if a not in found or b not in found:
            continue
        x, y = ({point.seed: point for point in found[label]} for label in (a, b))
        diffs = [paired_difference(x[seed], y[seed]) for seed in sorted(set(x) & set(y))]
        if diffs:
            tests.append(PairTest(a, b, diffs, float(signed_rank_p(np.array(diffs))[0])))
    for test, p in zip(tests, holm([t.p for t in tests]), strict=True):
        test.p_holm = p
    return tests


def reading(test: PairTest) -> str:
    """The pair's test in a plain sentence."""
    a_later, b_later, _ = test.later
    counts = f"{test.a} breaks later on {a_later} of {len(test.diffs)} seeds, {test.b} on {b_later}"
    if a_later + b_later < MIN_DIFFERING:
        smallest = min(1.0, 2 / 2 ** (a_later + b_later))
        return (
            f"{counts}: too few differ for any signed-rank test to reach p < {ALPHA:g} "
            f"(smallest possible p {smallest:.2g}), so none is run"
        )
    if test.p_holm < ALPHA:
        return f"{counts}: {test.a if test.a_later else test.b} breaks significantly later"
    return f"{counts}: no significant difference in where the tickets break"


def pair_lines(tests: list[PairTest]) -> list[str]:
    """Markdown: the pair test, then one row per pair tested (`pair_tests`; [] when none is)."""
    if not tests:
        return []
    lines = [
        "Each conclusion's pair, breaking rounds paired by seed (same data order and standard "
        "draws) and cut at the last round both runs reached: Wilcoxon signed-rank test, "
        "two-sided, with seeds that break at the same round kept in the ranking (Pratt 1959), "
        "Holm-adjusted over the pairs tested. Simulated, it rejects about 4% of equal pairs at 11 "
        "seeds and 5% at 20 (`python -m lottery_init.report.stability`). Where fewer than "
        f"{MIN_DIFFERING} seeds break at different rounds no such test can reach p < {ALPHA:g}, "
        "and none is run.",
        "",
        "| a | b | seed pairs | median a - b (rounds) | p (Holm) | reading |",
        "|---|---|---|---|---|---|",
    ]
    for t in tests:
        p = "–" if math.isnan(t.p_holm) else f"{t.p_holm:.2g}"
        median = float(np.median(t.diffs))
        shift = f"{median:+g}" if median else "0"
        lines.append(f"| {t.a} | {t.b} | {len(t.diffs)} | {shift} | {p} | {reading(t)} |")
    return [*lines, ""]
