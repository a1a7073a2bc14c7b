"""Comparing two methods' accuracies over seeds through SciPy and statsmodels: paired where the
seeds pair, with confidence intervals, effect sizes, equivalence (TOST) and power."""

import math
import statistics
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestIndPower, TTestPower
from statsmodels.stats.weightstats import ttost_ind, ttost_paired
from statsmodels.tools.sm_exceptions import ConvergenceWarning

ALPHA = 0.05
POWER = 0.8
CONFIDENCE = 0.95


@dataclass
class Comparison:
    """Method a against method b in one round; differences are a - b, in accuracy fractions."""

    test: str  # "paired t" (per-seed differences over common seeds) or "Welch"
    n: tuple[int, int]  # seeds used for a and b (equal for a paired test)
    diff: float  # mean difference
    ci: tuple[float, float]  # its 95% confidence interval
    effect: float  # standardized: mean / sd of the differences (paired), else over `sd`
    sd: float  # sd of the per-seed differences (paired), else sqrt((sd_a² + sd_b²) / 2)
    p: float  # two-sided
    correlation: float  # Pearson r of the paired accuracies (NaN for Welch)
    p_holm: float = math.nan  # adjusted over the family its caller states

    @property
    def paired(self) -> bool:
        return self.test == "paired t"


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1); the deviation is NaN for one value."""
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else math.nan


def _paired(a: dict[int, float], b: dict[int, float]) -> tuple[list[float], list[float]]:
    """The accuracies of the seeds both methods have, in seed order."""
    common = sorted(set(a) & set(b))
    return [a[s] for s in common], [b[s] for s in common]


def compare(a: dict[int, float], b: dict[int, float]) -> Comparison | None:
    """Paired t-test over the seeds both methods have, when there are at least 2, else Welch's
    test (Welch 1947); None when a method has fewer than 2 seeds."""
    x, y = _paired(a, b)
    if len(x) >= 2:
        diffs = [u - v for u, v in zip(x, y, strict=True)]
        sd, r, test, n = statistics.stdev(diffs), _correlation(x, y), "paired t", (len(x),) * 2
    elif min(len(a), len(b)) >= 2:
        x, y = list(a.values()), list(b.values())
        sd = math.sqrt((statistics.variance(x) + statistics.variance(y)) / 2)
        r, test, n = math.nan, "Welch", (len(x), len(y))
    else:
        return None
    diff = statistics.fmean(x) - statistics.fmean(y)
    if not sd > 0:  # Constant differences: certain, unless there is none.
        effect, p = (math.copysign(math.inf, diff), 0.0) if diff else (0.0, 1.0)
        return Comparison(test, n, diff, (diff, diff), effect, sd, p, r)
    result = stats.ttest_rel(x, y) if test == "paired t" else stats.ttest_ind(x, y, equal_var=False)
    ci = result.confidence_interval(CONFIDENCE)
    ci_ = (float(ci.low), float(ci.high))
    return Comparison(test, n, diff, ci_, diff / sd, sd, float(result.pvalue), r)


def _correlation(x: list[float], y: list[float]) -> float:
    """Pearson's r, NaN when either side is constant."""
    if statistics.pvariance(x) == 0 or statistics.pvariance(y) == 0:
        return math.nan
    return float(stats.pearsonr(x, y).statistic)


def equivalence(a: dict[int, float], b: dict[int, float], margin: float, paired: bool) -> float:
    """p of two one-sided tests that |mean a - mean b| < `margin` (Schuirmann 1987)."""
    if paired:
        x, y = map(np.asarray, _paired(a, b))
        return float(ttost_paired(x, y, -margin, margin)[0])
    x, y = np.asarray(list(a.values())), np.asarray(list(b.values()))
    return float(ttost_ind(x, y, -margin, margin, usevar="unequal")[0])


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979), in the input order; NaN stays NaN."""
    kept = [i for i, p in enumerate(p_values) if not math.isnan(p)]
    adjusted = [math.nan] * len(p_values)
    if kept:
        corrected = multipletests([p_values[i] for i in kept], method="holm")[1]
        for i, p in zip(kept, corrected, strict=True):
            adjusted[i] = float(p)
    return adjusted


def detectable(sd: float, n: int, paired: bool) -> float:
    """Smallest true difference a two-sided test at ALPHA detects with 80% power, for n seeds
    per method and standard deviation `sd` (of differences if paired, else of each method)."""
    if n < 2 or not sd > 0:
        return math.nan
    if paired:
        effect = TTestPower().solve_power(nobs=n, alpha=ALPHA, power=POWER)
    else:
        effect = TTestIndPower().solve_power(nobs1=n, ratio=1.0, alpha=ALPHA, power=POWER)
    return float(effect) * sd


def seeds_needed(sd: float, difference: float, paired: bool) -> float:
    """Seeds per method for 80% power to detect `difference` at ALPHA (two-sided); infinite for
    no difference."""
    if not sd > 0:
        return 2
    if difference == 0:
        return math.inf
    effect = abs(difference) / sd
    solver = TTestPower() if paired else TTestIndPower()
    with warnings.catch_warnings():
        # A failed root search returns NaN, handled below; its warning would only be noise.
        warnings.simplefilter("ignore", ConvergenceWarning)
        n = float(solver.solve_power(effect_size=effect, alpha=ALPHA, power=POWER))
    if math.isfinite(n):
        return max(2, math.ceil(n))
    # The root finder fails for a handful of seeds; count up instead.
    n = 2
    while solver.power(effect, n, ALPHA) < POWER:
        n += 1
    return n


def equivalence_power(sd: float, n: int, margin: float, paired: bool) -> float:
    """Power of TOST at a true difference of 0: both one-sided tests at ALPHA must reject, so
    it is about 2 x (one-sided power at the margin) - 1."""
    solver = TTestPower() if paired else TTestIndPower()
    side = solver.power(margin / sd, n, ALPHA, alternative="larger")
    return max(0.0, 2 * float(side) - 1)


def equivalence_seeds(sd: float, margin: float, paired: bool) -> int:
    """Seeds per method for 80% power of TOST to show equivalence when the methods are equal."""
    n = 2
    while n < 10_000 and equivalence_power(sd, n, margin, paired) < POWER:
        n += 1
    return n
