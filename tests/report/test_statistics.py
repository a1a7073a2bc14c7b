"""The report's statistics on synthetic sweeps with a known structure, checked by simulation."""

import math

import numpy as np
import pytest

from lottery_init.report.statistics.t_tests import (
    ALPHA,
    compare,
    detectable,
    equivalence,
    equivalence_power,
    equivalence_seeds,
    holm,
    mean_std,
    seeds_needed,
)

SEEDS = 11


def sweep(gen: np.random.Generator, shift: float, shared: float, noise: float, n: int = SEEDS):
    """Two methods' accuracies per seed: a common per-seed effect (same data order, same
    draws), each method's own noise, and a true difference `shift` (a minus b)."""
    seed_effect = gen.normal(0.0, shared, n)
    a = 0.95 + shift + seed_effect + gen.normal(0.0, noise, n)
    b = 0.95 + seed_effect + gen.normal(0.0, noise, n)
    return dict(enumerate(a.tolist())), dict(enumerate(b.tolist()))


def test_mean_and_sample_standard_deviation():
    assert mean_std([0.90, 0.92, 0.94]) == pytest.approx((0.92, 0.02))
    assert math.isnan(mean_std([0.5])[1]) and mean_std([0.5])[0] == 0.5


def test_a_paired_difference_is_found_by_the_paired_test_and_missed_by_welch():
    # Seed-to-seed spread 0.5 points hides a 0.1-point shift from Welch; pairing removes it.
    a, b = sweep(np.random.default_rng(1), shift=0.001, shared=0.005, noise=0.0003)
    paired = compare(a, b)
    welch = compare(a, {seed + 100: acc for seed, acc in b.items()})
    assert paired.test == "paired t" and paired.p < 0.001 and paired.correlation > 0.9
    assert welch.test == "Welch" and welch.p > 0.3


def test_the_effect_is_the_mean_difference_over_the_spread_of_the_differences():
    c = compare({0: 0.90, 1: 0.92, 2: 0.95}, {0: 0.89, 1: 0.90, 2: 0.92})
    diffs = [0.01, 0.02, 0.03]
    assert c.diff == pytest.approx(0.02) and c.sd == pytest.approx(np.std(diffs, ddof=1))
    assert c.effect == pytest.approx(0.02 / np.std(diffs, ddof=1))


@pytest.mark.parametrize("paired", [True, False])
def test_confidence_intervals_cover_the_true_difference_95_percent_of_the_time(paired):
    gen, trials, shift = np.random.default_rng(7), 2000, 0.002
    covered = 0
    for _ in range(trials):
        # Unpaired methods share no per-seed effect.
        a, b = sweep(gen, shift, shared=0.003 if paired else 0.0, noise=0.002)
        c = compare(a, b if paired else {s + 100: v for s, v in b.items()})
        covered += c.ci[0] <= shift <= c.ci[1]
    # Binomial sd at 2000 trials is 0.5 points: 0.93-0.97 is four of them either side.
    assert 0.93 <= covered / trials <= 0.97


def test_tost_shows_identical_distributions_equivalent_with_enough_seeds():
    a, b = sweep(np.random.default_rng(3), shift=0.0, shared=0.003, noise=0.0005, n=40)
    assert equivalence(a, b, margin=0.002, paired=True) < ALPHA


def test_tost_does_not_show_a_difference_of_twice_the_margin_equivalent():
    a, b = sweep(np.random.default_rng(3), shift=0.004, shared=0.003, noise=0.0005, n=40)
    assert equivalence(a, b, margin=0.002, paired=True) > 0.5


@pytest.mark.parametrize("paired", [True, False])
def test_a_difference_of_the_detectable_size_is_found_80_percent_of_the_time(paired):
    gen, trials, noise, n = np.random.default_rng(11), 2000, 0.002, SEEDS
    # Without a shared effect, the sd of the differences is noise * sqrt(2).
    sd = noise * math.sqrt(2) if paired else math.sqrt(noise**2)
    shift = detectable(sd, n, paired)
    found = 0
    for _ in range(trials):
        a, b = sweep(gen, shift, shared=0.0, noise=noise, n=n)
        c = compare(a, b if paired else {s + 100: v for s, v in b.items()})
        found += c.p < ALPHA
    assert 0.76 <= found / trials <= 0.84


def test_seeds_needed_inverts_the_detectable_difference():
    sd = 0.003
    n = seeds_needed(sd, detectable(sd, 11, paired=True), paired=True)
    assert n == 11
    assert seeds_needed(sd, 0.001, paired=True) > seeds_needed(sd, 0.002, paired=True)


def test_tost_power_at_equal_methods_matches_a_simulation():
    gen, trials, noise, margin = np.random.default_rng(5), 1500, 0.002, 0.002
    n = equivalence_seeds(noise * math.sqrt(2), margin, paired=True)
    shown = sum(
        equivalence(*sweep(gen, 0.0, shared=0.0, noise=noise, n=n), margin, paired=True) < ALPHA
        for _ in range(trials)
    )
    predicted = equivalence_power(noise * math.sqrt(2), n, margin, paired=True)
    assert predicted >= 0.8 and abs(shown / trials - predicted) < 0.04


def test_holm_adjusts_step_down_and_keeps_the_order():
    # Sorted: 0.01 x 4, 0.03 x 3, 0.04 x 2 (raised to 0.09 to stay monotone), 0.5 x 1.
    assert holm([0.04, 0.01, 0.5, math.nan, 0.03]) == pytest.approx(
        [0.09, 0.04, 0.5, math.nan, 0.09], nan_ok=True
    )


def test_constant_differences_are_certain_and_no_difference_is_not():
    assert compare({0: 0.75, 1: 0.5}, {0: 0.5, 1: 0.25}).p == 0.0
    assert compare({0: 0.75, 1: 0.5}, {0: 0.75, 1: 0.5}).p == 1.0
    assert compare({0: 0.9}, {1: 0.8, 2: 0.7}) is None
