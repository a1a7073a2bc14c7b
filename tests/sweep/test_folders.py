"""Job folder names that stay when a sweep grows, and the check before a folder is reused."""

from helpers import composed
from omegaconf import OmegaConf

from lottery_init.config.compose import compose
from lottery_init.runs.results import write_json
from lottery_init.sweep.folders import conflict, job_name


def name(base: list[str], job: list[str]) -> str:
    return job_name(job, composed(*base, *job), composed(*base))


def test_a_job_is_named_by_init_and_seed_alone_when_nothing_else_sets_it_apart():
    base = ["data.train_size=6000"]
    assert name(base, ["init=kaiming_uniform", "seed=7", "data.train_size=6000"]) == (
        "kaiming_uniform_s7"
    )


def test_the_init_is_named_even_when_the_job_does_not_override_it():
    assert name([], ["seed=0"]) == "xavier_normal_s0"


def test_overrides_that_differ_from_the_sweeps_base_are_named_in_sorted_order():
    job = ["init=xavier_normal", "seed=2", "prune=imp_reinit", "lr=0.002"]
    assert name(["experiment=seed_paper"], job) == "xavier_normal_s2_lr=0.002_prune=imp_reinit"


def test_an_override_equal_to_the_base_value_is_left_out_of_the_name():
    job = ["init=xavier_normal", "seed=2", "prune=imp", "lr=0.0012"]
    assert name(["experiment=seed_paper"], job) == "xavier_normal_s2"


def test_characters_a_folder_should_not_hold_become_dashes():
    assert name([], ["seed=1", "model.hidden=[30,10]"]) == "xavier_normal_s1_model.hidden=-30-10-"


def test_a_folder_of_the_same_config_may_be_reused_whatever_its_report_and_cadence(tmp_path):
    old = compose(["seed=3", "report=false", "checkpoint.every_seconds=5"])
    write_json(tmp_path / "run.json", {"config": OmegaConf.to_container(old)})
    assert conflict(tmp_path, compose(["seed=3"])) is None


def test_a_folder_holding_another_config_names_the_keys_that_differ(tmp_path):
    write_json(
        tmp_path / "run.json", {"config": OmegaConf.to_container(compose(["seed=3", "lr=0.002"]))}
    )
    reason = conflict(tmp_path, compose(["seed=3", "data.train_size=6000"]))
    assert reason == (
        f"{tmp_path} holds a run of another config "
        "(lr: 0.002 there, 0.0012 now, data.train_size: None there, 6000 now)"
    )


def test_an_empty_folder_takes_any_job(tmp_path):
    assert conflict(tmp_path / "new", compose()) is None


def test_a_folder_from_before_target_remaining_takes_the_same_job(tmp_path):
    old = OmegaConf.to_container(compose(["seed=3"]))
    del old["prune"]["target_remaining"]
    write_json(tmp_path / "run.json", {"config": old})
    assert conflict(tmp_path, compose(["seed=3"])) is None


def test_a_job_with_a_target_is_refused_a_folder_trained_without_one(tmp_path):
    write_json(tmp_path / "run.json", {"config": OmegaConf.to_container(compose(["seed=3"]))})
    reason = conflict(tmp_path, compose(["seed=3", "prune.target_remaining=0.018"]))
    assert "prune.target_remaining: None there, 0.018 now" in reason


def test_a_folder_holding_this_cifar10_job_takes_it_again(tmp_path):
    # MNIST's file sums are what a run.json without `data.name` read, not a CIFAR-10 run's.
    job = compose(["data=cifar10", "seed=1"])
    write_json(tmp_path / "run.json", {"config": OmegaConf.to_container(job)})
    assert conflict(tmp_path, job) is None
