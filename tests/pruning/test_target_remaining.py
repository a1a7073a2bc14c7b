"""`prune.target_remaining`: epochs derived from a target fraction, its checks, a run that stops
there, and `experiment=rates`, which sweeps rates and intervals to one target."""

import pytest
from helpers import TINY, composed

from lottery_init.config.compose import compose
from lottery_init.config.validate import validate
from lottery_init.pruning.schedule import prune_events
from lottery_init.runs.results import read_metrics, read_run
from lottery_init.sweep.folders import job_name
from lottery_init.training.population import train

RATES = (0.1, 0.2, 0.4)
INTERVALS = (2, 5, 10)


@pytest.mark.parametrize(
    ("rate", "target", "events"),
    [(0.2, 0.018, 19), (0.2, 0.8**18, 18), (0.2, 0.64, 2), (0.1, 0.018, 39), (0.4, 0.018, 8)],
)
def test_prune_events_is_the_fewest_that_reach_the_target(rate, target, events):
    assert prune_events(rate, target) == events


def test_without_a_target_epochs_is_the_studys_100():
    cfg = compose()
    assert (cfg.epochs, cfg.trainer.max_epochs, cfg.prune.target_remaining) == (100, 100, None)


def test_with_a_target_epochs_and_the_trainers_max_epochs_are_derived():
    cfg = compose(["prune.target_remaining=0.018", "prune.rate=0.4", "prune.every_n_epochs=2"])
    assert (cfg.epochs, cfg.trainer.max_epochs) == (18, 18)


def test_the_dense_baseline_still_spans_every_epoch_in_one_round():
    cfg = compose(["prune=dense", "epochs=30"])
    assert (cfg.epochs, cfg.prune.every_n_epochs) == (30, 30)


def test_explicit_epochs_equal_to_the_derived_ones_are_accepted():
    validate([compose(["prune.target_remaining=0.018", "epochs=100"])])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["prune.target_remaining=0.018", "epochs=95"],
            "prune.target_remaining=0.018 at rate 0.2 every 5 epochs takes 19 prune events, so "
            "epochs must be 100, not 95 (or leave epochs unset).",
        ),
        (
            ["prune.target_remaining=0"],
            "prune.target_remaining must lie in (0, 1), or be null, got 0.0.",
        ),
        (
            ["prune.target_remaining=1"],
            "prune.target_remaining must lie in (0, 1), or be null, got 1.0.",
        ),
        (
            ["prune.target_remaining=0.1", "prune.layer_rates=[0.2,0.2,0.1]"],
            "prune.target_remaining needs the one prune.rate that every layer is pruned at, and "
            "prune.layer_rates prunes each layer at its own; set epochs instead.",
        ),
        (
            ["prune=dense", "prune.target_remaining=0.1"],
            "prune.target_remaining=0.1 needs prune events every prune.every_n_epochs >= 1 "
            "epochs, got 0; prune=dense, one round that never prunes, reaches no target.",
        ),
    ],
)
def test_a_target_the_schedule_cannot_stop_at_is_refused_in_one_sentence(overrides, message):
    with pytest.raises(ValueError) as error:
        validate([compose(overrides)])
    assert str(error.value) == message


@pytest.fixture(scope="module")
def target_run(tmp_path_factory, mnist_raw):
    """Halving every epoch down to 20%: 0.5³ = 12.5% is the first at or below it, so 4 epochs."""
    run_dir = tmp_path_factory.mktemp("target")
    overrides = ["prune.rate=0.5", "prune.every_n_epochs=1", "prune.target_remaining=0.2"]
    train(compose([*TINY, *overrides]), run_dir)
    return run_dir


def test_a_run_with_a_target_stops_in_the_first_round_at_or_below_it(target_run):
    rounds = read_run(target_run)["rounds"]
    assert [r["round"] for r in rounds] == [0, 1, 2, 3]
    assert rounds[-1]["remaining"] <= 0.2 < rounds[-2]["remaining"]


def test_a_run_with_a_target_records_its_derived_epochs(target_run):
    config = read_run(target_run)["config"]
    assert (config["epochs"], config["trainer"]["max_epochs"]) == (4, 4)
    assert config["prune"]["target_remaining"] == 0.2
    assert len(read_metrics(target_run)) == 4


def test_the_rates_experiment_sweeps_rates_and_intervals_to_the_studys_1_8_percent():
    cfg = composed("experiment=rates")
    assert cfg.hydra.sweeper.params == {
        "init": "xavier_normal,kaiming_normal",
        "seed": "range(11)",
        "prune.rate": "0.1,0.2,0.4",
        "prune.every_n_epochs": "2,5,10",
    }
    assert cfg.prune.target_remaining == 0.018


def test_every_arm_of_the_rates_experiment_validates_with_its_derived_epochs():
    epochs = {}
    for rate in RATES:
        for every in INTERVALS:
            cfg = compose(
                ["experiment=rates", f"prune.rate={rate}", f"prune.every_n_epochs={every}"]
            )
            validate([cfg])
            epochs[rate, every] = cfg.epochs
    assert epochs == {
        (0.1, 2): 80, (0.1, 5): 200, (0.1, 10): 400,
        (0.2, 2): 40, (0.2, 5): 100, (0.2, 10): 200,
        (0.4, 2): 18, (0.4, 5): 45, (0.4, 10): 90,
    }  # fmt: skip


def test_the_rates_experiments_job_folders_name_rate_and_interval_apart():
    base = composed("experiment=rates")
    names = set()
    for rate in RATES:
        for every in INTERVALS:
            job = ["init=xavier_normal", "seed=0", f"prune.rate={rate}"]
            job.append(f"prune.every_n_epochs={every}")
            names.add(job_name(job, composed("experiment=rates", *job), base))
    assert len(names) == 9
    assert "xavier_normal_s0_prune.every_n_epochs=2_prune.rate=0.1" in names
    assert "xavier_normal_s0" in names  # the study's arm, which the base config is
