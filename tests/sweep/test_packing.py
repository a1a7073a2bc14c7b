"""Packing jobs into populations, and failures that stay inside one member or population."""

import pytest
from helpers import TINY

from lottery_init.config.compose import compose
from lottery_init.runs.results import COLUMNS, read_metrics, read_run
from lottery_init.sweep.packing import EVAL_BYTES, SLACK, MemoryFit, member_bytes, pack
from lottery_init.sweep.workers import Population, train_populations
from lottery_init.training.population import train_population


def cfgs(*jobs: list[str]) -> list:
    return [compose([*TINY, *job]) for job in jobs]


def test_jobs_that_differ_in_a_non_member_field_are_not_packed_together():
    jobs = cfgs(["lr=0.001", "seed=0"], ["lr=0.002", "seed=0"], ["lr=0.001", "seed=1"])
    jobs += cfgs(["lr=0.002", "init=kaiming_normal"])
    assert pack(jobs, max_population=None, devices=1) == [[0, 2], [1, 3]]


def test_populations_respect_the_cap_and_are_balanced():
    jobs = cfgs(*[[f"seed={s}"] for s in range(5)])
    assert pack(jobs, max_population=2, devices=1) == [[0, 1], [2, 3], [4]]
    assert pack(jobs, max_population=4, devices=1) == [[0, 1, 2], [3, 4]]


def test_populations_are_spread_over_every_device():
    jobs = cfgs(*[[f"seed={s}"] for s in range(5)])
    assert pack(jobs, max_population=None, devices=2) == [[0, 1, 2], [3, 4]]
    assert pack(jobs[:1], max_population=None, devices=4) == [[0]]


def test_a_diverging_member_fails_alone_and_its_neighbour_trains_as_if_alone(tmp_path, mnist_raw):
    settings = ["epochs=2", "prune.every_n_epochs=1"]
    healthy, diverging = cfgs([*settings, "seed=3"], [*settings, "seed=4", "init.gain=1e30"])
    train_population([healthy, diverging], [tmp_path / "a", tmp_path / "b"])
    train_population([healthy], [tmp_path / "alone"])
    failed = read_run(tmp_path / "b")
    assert failed["status"] == "failed" and failed["failed_epoch"] == 0
    assert failed["reason"].startswith("loss is not finite in epoch 0")
    assert read_run(tmp_path / "a")["status"] == "done"
    together, alone = read_metrics(tmp_path / "a"), read_metrics(tmp_path / "alone")
    assert len(together) == len(alone) == 2
    for t, a in zip(together, alone, strict=True):
        assert all(t[c] == pytest.approx(a[c], abs=1e-5) for c in set(COLUMNS) - {"seconds"})


def test_a_lone_diverging_run_stops_after_the_epoch_it_diverged(tmp_path, mnist_raw):
    cfg = cfgs(["epochs=3", "prune.every_n_epochs=1", "init.gain=1e30"])[0]
    train_population([cfg], [tmp_path])
    assert read_run(tmp_path)["status"] == "failed" and len(read_metrics(tmp_path)) == 1


def test_a_failing_population_does_not_stop_the_next_one(tmp_path, mnist_raw):
    (tmp_path / "file").write_text("a run folder cannot be made under a file")
    cfg = cfgs(["epochs=1", "prune.every_n_epochs=1"])[0]
    broken = Population("broken", [cfg], [tmp_path / "file" / "run"], [], tmp_path / "ckpt")
    fine = Population("fine", [cfg], [tmp_path / "run"], [tmp_path / "run.log"], tmp_path / "ckpt")
    outcomes = train_populations([broken, fine], ["cpu"])
    assert isinstance(outcomes[0], OSError) and outcomes[1][0]["status"] == "done"
    assert read_run(tmp_path / "run")["status"] == "done"
    assert "fine: epoch 1/1" in (tmp_path / "run.log").read_text()


def test_an_estimated_member_grows_with_its_models_parameters_and_activations():
    lenet, conv2 = compose(), compose(["model=conv2", "data=cifar10"])
    assert member_bytes(conv2) > 10 * member_bytes(lenet)
    # LeNet-300-100 on MNIST: 7 x 266,610 parameters, a chunk of 50 x 60 images of 784 pixels
    # and 3 x 60 x 410 activations, in float32, with the slack the measurement showed.
    expected = 4 * (7 * 266_610 + 50 * 60 * 784 + 3 * 60 * 410) * SLACK
    assert member_bytes(lenet) == pytest.approx(expected)


def test_a_fit_without_a_member_size_takes_the_largest_jobs_and_sets_an_eval_block_aside():
    jobs = [compose(), compose(["model=conv2"])]
    fit = MemoryFit(None, 0.25).for_jobs(jobs)
    assert fit.member_mib * 2**20 == pytest.approx(member_bytes(jobs[1]))
    memory = 40 * 2**30
    assert fit.members(memory) == int((memory * 0.75 - EVAL_BYTES) // member_bytes(jobs[1]))


def test_a_measured_member_size_is_used_as_given():
    fit = MemoryFit(39.0, 0.25)
    assert fit.for_jobs([compose(["model=conv2"])]) is fit
    assert fit.members(2**30) == int(2**30 * 0.75 // (39 * 2**20))
