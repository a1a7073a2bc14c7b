"""The summary a run is ranked by in TensorBoard's HParams table."""

import pytest

from lottery_init.runs.board import METRICS, summary


def rounds(accs: list[float]) -> list[dict]:
    return [{"round": r, "remaining": 0.8**r, "test_acc": acc} for r, acc in enumerate(accs)]


def test_the_best_ticket_is_the_best_pruned_round_and_its_remaining_fraction():
    values = summary(rounds([0.95, 0.97, 0.96, 0.90]))
    assert values["summary/best_ticket_acc"] == 0.97
    assert values["summary/best_ticket_remaining"] == pytest.approx(0.8)


def test_the_smallest_winning_ticket_may_follow_a_round_that_lost():
    values = summary(rounds([0.95, 0.94, 0.95, 0.90]))
    assert values["summary/smallest_winning_remaining"] == pytest.approx(0.64)


def test_a_run_with_no_winning_ticket_wins_only_dense():
    assert summary(rounds([0.95, 0.90, 0.80]))["summary/smallest_winning_remaining"] == 1.0


def test_accuracy_at_the_studys_marks_comes_from_the_rounds_that_reach_them():
    accs = [0.9 + r / 1000 for r in range(19)]
    values = summary(rounds(accs))
    assert values["summary/test_acc_at_6.9"] == accs[12]
    assert values["summary/test_acc_at_3.5"] == accs[15]
    assert values["summary/test_acc_at_1.8"] == accs[18]


def test_marks_not_reached_and_tickets_of_a_dense_run_are_absent():
    assert set(summary(rounds([0.95]))) == {
        "summary/dense_acc",
        "summary/smallest_winning_remaining",
    }
    assert "summary/test_acc_at_1.8" not in summary(rounds([0.9] * 18))


def test_every_summary_name_is_an_hparams_metric():
    assert set(summary(rounds([0.9] * 19))) == set(METRICS)


def test_a_run_pruned_at_initialization_has_a_ticket_but_no_dense_accuracy():
    values = summary([{"round": 0, "remaining": 0.05, "test_acc": 0.96}])
    assert values == {"summary/best_ticket_acc": 0.96, "summary/best_ticket_remaining": 0.05}
