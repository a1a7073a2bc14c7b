"""Breaking points, survival shares and the paired test on breaking rounds, the test checked by
simulation under its noise model."""

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from lottery_init.report.read.sweep import Run
from lottery_init.report.stability import (
    BREAK_MARGIN,
    breaking_point,
    breaks,
    stability_figure,
    stability_section,
    stability_table,
    survival,
)
from lottery_init.report.statistics.signed_rank import (
    MIN_DIFFERING,
    Break,
    pair_tests,
    paired_difference,
    reading,
    signed_rank_p,
)
from lottery_init.report.statistics.stability_sim import main, rejection_rate

SIMS = 2000


def run(seed: int, accs: list[float], init: str = "xavier_normal", first: int = 0) -> Run:
    """A run whose round r (from `first`) ends at accuracy accs[r - first], 0.8**r remaining."""
    rounds = [
        {"round": r, "remaining": 0.8**r, "test_acc": acc} for r, acc in enumerate(accs, first)
    ]
    return Run(Path(f"{init}_s{seed}"), init, seed, "done", rounds, [])


def holding_until(seed: int, breaks_after: int, last: int = 19, init: str = "m") -> Run:
    """A run at 98% that falls to 90% after round `breaks_after` (never, if it is `last`)."""
    accs = [0.98 if r <= breaks_after else 0.90 for r in range(last + 1)]
    return run(seed, accs, init)


def test_a_run_that_never_falls_holds_to_its_last_round():
    point = breaking_point(run(0, [0.97, 0.975, 0.968, 0.971]))
    assert point == Break(seed=0, round=3, last=3) and point.held


def test_a_run_breaks_at_the_round_before_its_first_fall():
    point = breaking_point(run(1, [0.97, 0.97, 0.97, 0.95, 0.90]))
    assert point.round == 2 and point.last == 4 and not point.held


def test_a_recovery_after_a_fall_does_not_extend_the_breaking_point():
    point = breaking_point(run(2, [0.97, 0.97, 0.95, 0.97, 0.97, 0.97]))
    assert point.round == 1 and not point.held


def test_a_drop_of_exactly_the_margin_holds_and_one_image_more_breaks():
    # 98.00% to 97.00% is 100 of 10,000 images: exactly the default margin, which still holds.
    assert breaking_point(run(0, [0.98, 0.97, 0.9699]), BREAK_MARGIN).round == 1


def test_the_margin_is_the_one_given_and_counts_from_the_runs_own_dense_accuracy():
    accs = [0.90, 0.88, 0.86]
    assert breaking_point(run(0, accs), margin=0.01).round == 0
    assert breaking_point(run(0, accs), margin=0.05).round == 2


def test_a_run_without_its_dense_round_has_no_breaking_point():
    assert breaking_point(run(0, [0.97, 0.96], first=1)) is None
    assert breaks({"m": [run(0, [0.97, 0.96], first=1)]}) == {}


def test_survival_is_the_share_of_seeds_holding_when_every_run_finished():
    points = [Break(0, 2, 5), Break(1, 4, 5), Break(2, 5, 5), Break(3, 5, 5)]
    assert survival(points, 5) == [1.0, 1.0, 1.0, 0.75, 0.75, 0.5]


def test_an_unfinished_run_still_holding_is_not_counted_as_broken():
    # Seed 0 stopped at round 3, still holding; seed 1 broke after round 5, seed 2 never did.
    points = [Break(0, 3, 3), Break(1, 5, 9), Break(2, 9, 9)]
    shares = survival(points, 9)
    assert shares[5] == 1.0 and shares[6] == pytest.approx(0.5) and shares[9] == pytest.approx(0.5)


def test_the_figure_draws_each_methods_share_against_weights_remaining():
    usable = {"a": [holding_until(s, 3, last=5) for s in range(4)], "b": [holding_until(0, 5, 5)]}
    ax = stability_figure(usable).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["a"].get_ydata()) == [100, 100, 100, 100, 0, 0]
    assert list(lines["b"].get_xdata()) == pytest.approx([0.8**r * 100 for r in range(6)])


def test_the_pair_test_is_scipys_wilcoxon_with_pratts_zeros_on_per_seed_differences():
    diffs = np.array([1, 0, 2, -1, 1, 1, 0, 3, 1, 2, -1])
    expected = stats.wilcoxon(diffs, zero_method="pratt", method="asymptotic").pvalue
    assert signed_rank_p(diffs)[0] == pytest.approx(expected)


def test_breaking_rounds_are_paired_by_seed():
    # b breaks over a wide spread of rounds; a breaks exactly one round later on every seed.
    b_rounds = [8, 17, 11, 14, 9, 16, 12, 10, 15, 13, 7]
    found_b = [Break(seed, r, 19) for seed, r in enumerate(b_rounds)]
    paired = [Break(seed, r + 1, 19) for seed, r in enumerate(b_rounds)]
    shuffled = [Break(seed, r + 1, 19) for seed, r in enumerate(reversed(b_rounds))]
    same_seeds = pair_tests({"a": paired, "b": found_b}, [("a", "b")])[0]
    other_seeds = pair_tests({"a": shuffled, "b": found_b}, [("a", "b")])[0]
    assert same_seeds.diffs == [1] * 11 and same_seeds.p < 0.01
    assert other_seeds.p > 0.2


def test_runs_are_compared_only_up_to_the_last_round_both_reached():
    # The unfinished run held to round 8; its partner broke after round 12, beyond it.
    assert paired_difference(Break(0, 8, 8), Break(0, 12, 19)) == 0
    assert paired_difference(Break(0, 8, 8), Break(0, 5, 19)) == 3


def test_holm_adjusts_over_the_pairs_tested_and_leaves_absent_pairs_out():
    b = [Break(seed, 10, 19) for seed in range(8)]
    a = [Break(seed, 12 + seed % 2, 19) for seed in range(8)]
    d = [Break(seed, 10 + r, 19) for seed, r in enumerate([1, 2, -1, 1, 0, 1, 2, -1])]
    found = {"a": a, "b": b, "c": b, "d": d}
    tests = pair_tests(found, [("a", "b"), ("c", "b"), ("d", "b"), ("a", "x")])
    assert [(t.a, t.b) for t in tests] == [("a", "b"), ("c", "b"), ("d", "b")]
    # c and b never differ: no test, so the family is the two pairs that have one.
    assert math.isnan(tests[1].p_holm) and tests[0].p < tests[2].p
    assert tests[0].p_holm == pytest.approx(2 * tests[0].p)
    assert tests[2].p_holm == pytest.approx(max(2 * tests[0].p, tests[2].p))


def test_under_six_differing_seeds_no_exact_test_can_reach_alpha():
    assert stats.wilcoxon([1, 2, 3, 4, 5], method="exact").pvalue > 0.05
    assert stats.wilcoxon([1, 2, 3, 4, 5, 6], method="exact").pvalue < 0.05
    assert MIN_DIFFERING == 6


def test_three_seeds_get_no_p_value_but_a_sentence_saying_why():
    found = {"a": [Break(s, 15, 19) for s in range(3)], "b": [Break(s, 12, 19) for s in range(3)]}
    test = pair_tests(found, [("a", "b")])[0]
    assert math.isnan(test.p) and "too few differ" in reading(test)


@pytest.mark.parametrize("seeds", [11, 20])
def test_equal_methods_are_rejected_about_5_percent_of_the_time(seeds):
    # Binomial sd at 2000 sweeps is 0.5 points: 2-7% also rules out a test far too conservative.
    assert 0.02 <= rejection_rate(seeds, shift=0.0, sims=SIMS, seed=5) <= 0.07


def test_power_to_detect_a_one_round_shift_grows_with_seeds():
    power_11 = rejection_rate(11, shift=1.0, sims=SIMS, seed=6)
    power_20 = rejection_rate(20, shift=1.0, sims=SIMS, seed=6)
    assert 0.2 < power_11 < power_20


def test_the_command_prints_false_positives_and_power_per_number_of_seeds(capsys):
    main(["--sims", "200", "--seeds", "11", "20"])
    out = capsys.readouterr().out
    assert "noise model" in out and "11 seeds: false positives" in out and "20 seeds:" in out


def test_the_table_gives_median_range_and_seeds_that_held():
    usable = {"m": [holding_until(0, 14), holding_until(1, 15), holding_until(2, 19)]}
    row = stability_table(usable)[2]
    assert row == f"| m | 3 | 15 | {0.8**15:.2%} | 14-19 | 1 of 3 |"


def test_the_section_writes_the_figure_and_tests_the_pairs_present(tmp_path):
    usable = {
        "xavier_normal": [holding_until(s, 16, init="xavier_normal") for s in range(3)],
        "kaiming_normal": [holding_until(s, 14, init="kaiming_normal") for s in range(3)],
    }
    pairs = [("xavier_normal", "kaiming_normal"), ("xavier_uniform", "kaiming_uniform")]
    lines = stability_section(usable, pair_tests(breaks(usable), pairs), BREAK_MARGIN, tmp_path)
    assert lines[0] == "## Stability: where each seed's ticket breaks"
    assert (tmp_path / "stability.png").stat().st_size > 0
    assert any(line.startswith("![") and line.endswith("(stability.png)") for line in lines)
    rows = [line for line in lines if line.startswith("| xavier_normal | kaiming_normal |")]
    assert len(rows) == 1 and "| +2 | – |" in rows[0] and "on 3 of 3 seeds" in rows[0]
    assert not any("xavier_uniform | kaiming_uniform" in line for line in lines)


def test_the_section_is_empty_when_no_method_has_a_dense_round(tmp_path):
    usable = {"m": [run(0, [0.97, 0.96], first=1)]}
    assert stability_section(usable, [], BREAK_MARGIN, tmp_path) == []
    assert not (tmp_path / "stability.png").exists()
