"""Statistics against closed forms and hand computations."""

import math

import pytest

from lottery_init.stats import holm, mean_std, t_two_sided, welch


def test_mean_and_sample_standard_deviation():
    assert mean_std([0.90, 0.92, 0.94]) == pytest.approx((0.92, 0.02))
    assert math.isnan(mean_std([0.5])[1]) and mean_std([0.5])[0] == 0.5


@pytest.mark.parametrize("t", [0.05, 0.7, 1.0, 3.0, 40.0])
def test_t_p_value_matches_the_closed_forms_for_one_and_two_degrees_of_freedom(t):
    # df = 1 is the Cauchy distribution; df = 2 has CDF 1/2 + t / (2 sqrt(2 + t²)).
    assert t_two_sided(t, 1) == pytest.approx(1 - 2 * math.atan(t) / math.pi, rel=1e-10)
    assert t_two_sided(t, 2) == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-10)


def test_t_p_value_tends_to_the_normal_for_many_degrees_of_freedom():
    assert t_two_sided(1.959963984540054, 1e7) == pytest.approx(0.05, rel=1e-5)


def test_welch_statistic_and_degrees_of_freedom_by_hand():
    a, b = [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0]
    va, vb = (5 / 3) / 4, 4.0 / 3  # sample variances over n
    t, df, p = welch(a, b)
    assert t == pytest.approx((2.5 - 4.0) / math.sqrt(va + vb))
    assert df == pytest.approx((va + vb) ** 2 / (va**2 / 3 + vb**2 / 2))
    assert p == pytest.approx(t_two_sided(t, df))


def test_welch_on_constant_groups_and_on_groups_too_small():
    assert welch([1.0, 1.0], [1.0, 1.0])[2] == 1.0
    assert welch([1.0, 1.0], [2.0, 2.0])[2] == 0.0
    assert math.isnan(welch([1.0], [2.0, 3.0])[2])


def test_holm_adjusts_step_down_and_keeps_the_order():
    # Sorted: 0.01 x 4, 0.03 x 3, 0.04 x 2 (raised to 0.09 to stay monotone), 0.5 x 1.
    assert holm([0.04, 0.01, 0.5, math.nan, 0.03]) == pytest.approx(
        [0.09, 0.04, 0.5, math.nan, 0.09], nan_ok=True
    )
