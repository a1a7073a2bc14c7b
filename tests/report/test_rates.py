"""The rates report: arms compared at equal fractions of weights remaining, interpolated in
log(remaining) between rounds, paired by seed with the study's arm."""

import math
from pathlib import Path

import pytest

from lottery_init.report.rates import (
    FRACTIONS,
    accuracies,
    at_fraction,
    rates_section,
    table,
    versus_study,
)
from lottery_init.report.read.sweep import Run

ROUNDS = [
    {"round": 0, "remaining": 1.0, "test_acc": 0.90},
    {"round": 1, "remaining": 0.8, "test_acc": 0.95},
    {"round": 2, "remaining": 0.64, "test_acc": 0.97},
]


def run(
    rate: float, every: int, seed: int, rounds: int, acc: float = 0.97, lr: float = 0.0012
) -> Run:
    """A finished run of xavier_normal pruned at `rate` for `rounds` rounds, whose accuracy falls
    by one point per halving of the weights from `acc`: linear in log(remaining)."""
    table = [
        {"round": r, "remaining": (1 - rate) ** r, "test_acc": acc + 0.01 * r * math.log2(1 - rate)}
        for r in range(rounds + 1)
    ]
    config = {"prune": {"rate": rate, "every_n_epochs": every}, "lr": lr}
    return Run(Path(f"{rate}_{every}_{seed}"), "xavier_normal", seed, "done", table, [], config)


def test_the_accuracy_at_a_rounds_own_fraction_is_that_rounds():
    assert at_fraction(ROUNDS, 0.8) == 0.95


def test_a_round_a_rounding_away_from_the_fraction_is_at_it():
    # LeNet-300-100's round 19 keeps 1.4414% of the weights, 0.8^19 is 1.4412%.
    rounds = [*ROUNDS, {"round": 3, "remaining": 0.014414, "test_acc": 0.93}]
    assert at_fraction(rounds, 0.0144) == 0.93
    assert at_fraction(rounds, 0.0143) is None


def test_halfway_in_log_remaining_is_halfway_in_accuracy():
    # sqrt(0.8 x 0.64) lies halfway between 0.8 and 0.64 on a log axis.
    assert at_fraction(ROUNDS, math.sqrt(0.8 * 0.64)) == pytest.approx(0.96)


def test_an_arithmetic_midpoint_is_weighted_by_its_log_distance():
    # log(0.8 / 0.72) / log(0.8 / 0.64) = 0.4722 of the way from 95% to 97%.
    assert at_fraction(ROUNDS, 0.72) == pytest.approx(0.95 + 0.02 * 0.472164, abs=1e-6)


@pytest.mark.parametrize("fraction", [0.5, 1.5])
def test_a_fraction_outside_the_rounds_is_left_blank(fraction):
    assert at_fraction(ROUNDS, fraction) is None


def test_an_arm_that_stops_short_of_a_fraction_gets_no_number_for_it():
    # 0.9^37 = 2.0% remaining: 1.8% would need extrapolation.
    accs = accuracies([run(0.2, 5, 0, 19), run(0.1, 2, 0, 37)])
    assert set(accs["xavier_normal", 0.1, 2]) == set(FRACTIONS[:2])
    row = next(line for line in table(accs) if line.startswith("| xavier_normal | 0.1 |"))
    assert row.endswith("|  |")


def test_arms_on_one_accuracy_curve_agree_at_every_fraction():
    accs = accuracies([run(0.2, 5, 0, 19), run(0.4, 2, 0, 8)])
    for fraction in FRACTIONS:
        assert accs["xavier_normal", 0.4, 2][fraction][0] == pytest.approx(
            accs["xavier_normal", 0.2, 5][fraction][0]
        )


def test_an_arm_is_compared_with_the_studys_arm_seed_by_seed():
    # Seeds differ by points, the arm by half a tenth of one within each seed: only pairing
    # tells them apart. Seed 5 has no study run to pair with.
    study = [run(0.2, 5, s, 19, acc) for s, acc in enumerate([0.95, 0.97, 0.96, 0.98, 0.94])]
    gains = [0.0004, 0.0006, 0.0005, 0.00055, 0.00045, 0.0]
    accs = [0.95, 0.97, 0.96, 0.98, 0.94, 0.99]
    arm = [
        run(0.4, 2, s, 8, acc + gain) for s, (acc, gain) in enumerate(zip(accs, gains, strict=True))
    ]
    found = versus_study(accuracies(study + arm))[("xavier_normal", 0.4, 2)]
    assert set(found) == set(FRACTIONS)
    for comparison in found.values():
        assert comparison.paired and comparison.n == (5, 5)
        assert comparison.diff == pytest.approx(0.0005) and comparison.p_holm < 0.05


def test_holm_adjusts_over_the_arms_fractions():
    study = [run(0.2, 5, s, 19, 0.95 + 0.01 * s) for s in range(4)]
    arm = [run(0.4, 2, s, 8, 0.95 + 0.01 * s + 0.001 * (s % 2)) for s in range(4)]
    found = versus_study(accuracies(study + arm))[("xavier_normal", 0.4, 2)]
    assert all(c.p_holm > c.p for c in found.values())


def test_the_section_writes_its_figure_and_links_it(tmp_path):
    lines = rates_section([run(0.2, 5, 0, 19), run(0.4, 2, 0, 8)], tmp_path)
    assert (tmp_path / "rates.png").stat().st_size > 0
    assert lines[0] == "## Pruning rates and intervals"
    assert any(line.endswith("(rates.png)") for line in lines)


def test_a_sweep_of_one_rate_and_interval_has_no_section(tmp_path):
    assert rates_section([run(0.2, 5, 0, 19), run(0.2, 5, 1, 19)], tmp_path) == []
    assert not (tmp_path / "rates.png").exists()


def test_runs_of_other_settings_are_compared_apart(tmp_path):
    runs = [run(0.2, 5, 0, 19), run(0.4, 2, 0, 8)]
    runs += [run(0.2, 5, 0, 19, lr=0.002), run(0.4, 2, 0, 8, lr=0.002)]
    lines = rates_section(runs, tmp_path)
    assert [line for line in lines if line.startswith("### ")] == [
        "### lenet, mnist, lr=0.0012",
        "### lenet, mnist, lr=0.002",
    ]
    assert (tmp_path / "rates_2.png").exists()


def test_a_seed_counts_once_per_arm(tmp_path):
    twin = run(0.2, 5, 0, 19, acc=0.5)
    twin.config["prune"]["target_remaining"] = 0.018
    lines = rates_section([run(0.2, 5, 0, 19), twin, run(0.4, 2, 0, 8)], tmp_path)
    row = next(line for line in lines if line.startswith("| xavier_normal | 0.2 |"))
    # Seed 0 once, from the first of the twins: 97% less 12 x 0.32 points at 0.8^12.
    assert row.split(" | ")[3:5] == ["1", "93.14"]
