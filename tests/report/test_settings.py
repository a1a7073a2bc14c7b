"""Runs as structured keys (arm and setting), the verdict matrix, and the narrow experiment."""

import math

from helpers import composed
from omegaconf import OmegaConf

from lottery_init.config.compose import compose
from lottery_init.report.claims import CLAIMS, judge
from lottery_init.report.command import write_reports
from lottery_init.report.matrix import cell, steady_cell
from lottery_init.report.narrow import families, narrow_section
from lottery_init.report.read.keys import arm_of, setting_of
from lottery_init.report.read.names import model_name, setting_names
from lottery_init.report.read.sweep import Run, load_sweep
from lottery_init.report.statistics.signed_rank import PairTest
from lottery_init.report.summary import round_stats
from lottery_init.runs.results import RunWriter
from lottery_init.sweep.folders import job_name

PNG = b"\x89PNG\r\n\x1a\n"


def config_of(*overrides: str) -> dict:
    """A run's resolved config as its run.json records it."""
    return OmegaConf.to_container(compose(list(overrides)), resolve=True)


def written(folder, config: dict, seed: int, accs: list[float]) -> None:
    """A run folder of `config` and `seed`, one epoch per round with these accuracies."""
    name = f"{config['init']['name']}_x{config['init']['scale']}_s{seed}_{config['data']['name']}"
    writer = RunWriter(
        folder / name, {"init": config["init"]["name"], "seed": seed, "config": config}
    )
    for r, acc in enumerate(accs):
        row = {"epoch": r, "round": r, "remaining": 0.8**r, "test_acc": acc, "seconds": 1.0}
        writer.epoch(row | {"train_loss": 0.1, "train_acc": 0.9, "test_loss": 0.2})
        kept = 0.8**r
        writer.end_round(
            {"round": r, "remaining": kept, "test_acc": acc, "layer_remaining": [kept] * 3}
        )
    writer.close("done")


def test_an_init_scale_that_an_init_file_states_takes_that_files_label():
    config = config_of("init=xavier_normal", "init.scale=0.5")
    assert arm_of("xavier_normal", config).label == "xavier_normal_half"


def test_an_init_scale_no_file_states_shows_in_the_label():
    config = config_of("init=xavier_uniform", "init.scale=0.125")
    assert arm_of("xavier_uniform", config).label == "xavier_uniform ×1/8"


def test_a_pruning_control_shows_in_the_label_but_not_in_the_setting():
    plain, control = config_of(), config_of("prune=imp_random")
    assert arm_of("xavier_normal", control).label == "xavier_normal (random)"
    assert setting_of(plain) == setting_of(control)


def test_init_seed_and_where_files_live_are_not_part_of_the_setting():
    base = config_of("init=xavier_normal", "seed=0")
    other = config_of("init=kaiming_uniform", "seed=7", "data.data_dir=/elsewhere", "trainer=cpu")
    assert setting_of(base) == setting_of(other)


def test_settings_are_named_by_model_dataset_and_what_else_differs():
    settings = [
        setting_of(config_of()),
        setting_of(config_of("model=lenet5")),
        setting_of(config_of("data=fashion_mnist", "prune.rate=0.1")),
    ]
    assert list(setting_names(settings).values()) == [
        "lenet, mnist, prune.rate=0.2",
        "lenet5, mnist, prune.rate=0.2",
        "lenet, fashion_mnist, prune.rate=0.1",
    ]


def test_every_model_file_is_recognised_from_a_run_config():
    for model in ("lenet", "lenet5", "conv2", "conv4", "conv6"):
        assert model_name(setting_of(config_of(f"model={model}", "data=cifar10"))) == model


def test_a_setting_whose_model_no_file_builds_is_named_by_its_class():
    setting = setting_of(config_of("model.hidden=[100,30]"))
    assert model_name(setting) == "LeNet"


def accuracies(scale: float, seed: int) -> list[float]:
    """13 rounds (through 6.9% remaining): narrower scales hold better in the last round."""
    return [0.97] * 12 + [0.90 + 0.02 * (1 - scale) + seed / 1000]


def narrow_sweep(folder) -> None:
    """xavier_normal at four scales (×1/2 through its own init file) and two seeds."""
    for seed in range(2):
        for scale in (0.125, 0.25, 1.0):
            written(folder, config_of(f"init.scale={scale}"), seed, accuracies(scale, seed))
        written(folder, config_of("init=xavier_normal_half"), seed, accuracies(0.5, seed))


def test_the_narrow_section_tabulates_accuracy_against_scale(tmp_path):
    narrow_sweep(tmp_path)
    sweep = load_sweep(tmp_path)
    assert families(sweep.arms) == {
        "xavier_normal": {
            0.125: "xavier_normal ×1/8",
            0.25: "xavier_normal ×1/4",
            0.5: "xavier_normal_half",
            1.0: "xavier_normal",
        }
    }
    lines = narrow_section(round_stats(sweep.usable), sweep.arms, tmp_path)
    assert "| xavier_normal | ×1/8 | 2 | 91.80 ± 0.07 |  |  |" in lines
    assert "| xavier_normal | ×1 | 2 | 90.05 ± 0.07 |  |  |" in lines
    assert (tmp_path / "narrow.png").read_bytes().startswith(PNG)


def test_two_scales_are_not_a_narrow_sweep(tmp_path):
    for scale in (0.5, 1.0):
        written(tmp_path, config_of(f"init.scale={scale}"), 0, accuracies(scale, 0))
    sweep = load_sweep(tmp_path)
    assert narrow_section(round_stats(sweep.usable), sweep.arms, tmp_path) == []


def test_a_matrix_cell_says_the_verdict_and_the_widest_gap():
    accs = {
        "xavier_normal": [[0.95] * 16 + [0.90 + s / 100, 0.85 + s / 300] for s in range(3)],
        "kaiming_normal": [[0.95] * 16 + [0.88 + s / 90, 0.85] for s in range(3)],
    }
    usable = {
        init: [Run(None, init, seed, "done", rounds_of(a), []) for seed, a in enumerate(by_seed)]
        for init, by_seed in accs.items()
    }
    claim = CLAIMS[2]
    assert cell(claim, judge(round_stats(usable), claim), 0.002).startswith(
        "**supported**; widest xavier_normal − kaiming_normal +1.89 at 2.8%"
    )


def test_an_inconclusive_cell_says_how_many_seeds_would_decide_it():
    accs = {
        "xavier_normal": [[0.95] * 16 + [0.90 + s / 100, 0.85] for s in range(3)],
        "kaiming_normal": [[0.95] * 16 + [0.90 + (2 - s) / 100, 0.85] for s in range(3)],
    }
    usable = {
        init: [Run(None, init, seed, "done", rounds_of(a), []) for seed, a in enumerate(by_seed)]
        for init, by_seed in accs.items()
    }
    claim = CLAIMS[2]
    found = cell(claim, judge(round_stats(usable), claim), 0.002)
    assert found.startswith("**inconclusive**; widest") and found.endswith(" seeds")


def rounds_of(accs: list[float]) -> list[dict]:
    return [{"round": r, "remaining": 0.8**r, "test_acc": a} for r, a in enumerate(accs)]


def test_a_verdict_matrix_row_per_setting_in_the_index(tmp_path):
    for seed in range(3):
        for data in ("mnist", "fashion_mnist"):
            for init, drop in (("xavier_normal", 0.0), ("kaiming_normal", 0.05 + seed / 100)):
                config = config_of(f"init={init}", f"data={data}")
                written(tmp_path, config, seed, [0.95] * 16 + [0.9 - drop, 0.8 - drop])
    write_reports(tmp_path)
    index = (tmp_path / "report" / "report.md").read_text()
    row = "| lenet, mnist | 3 | not tested | not tested | **supported**; widest xavier_normal"
    assert row in index
    assert "| lenet, fashion_mnist | 3 |" in index


def test_the_narrow_experiment_sweeps_five_scales_of_both_xavier_families():
    params = composed("experiment=narrow").hydra.sweeper.params
    assert (params.init, params["init.scale"]) == (
        "xavier_normal,xavier_uniform",
        "0.125,0.25,0.5,1,2",
    )
    assert params.seed == "range(11)"


def test_the_narrow_experiments_folders_name_the_scale_and_x1_is_the_plain_method():
    base = composed("experiment=narrow")
    name = lambda *job: job_name(job, composed("experiment=narrow", *job), base)  # noqa: E731
    assert name("init=xavier_uniform", "init.scale=0.125", "seed=3") == (
        "xavier_uniform_s3_init.scale=0.125"
    )
    assert name("init=xavier_normal", "init.scale=1", "seed=0") == "xavier_normal_s0"


def test_the_stability_cell_is_supported_when_xavier_breaks_significantly_later():
    test = PairTest("xavier_normal", "kaiming_normal", [1, 2, 1, 1, 2, 1, 1, 0], 0.01, 0.01)
    assert steady_cell([test]) == "**supported**; xavier_normal later on 7 of 8"


def test_the_stability_cell_says_when_too_few_seeds_differ_to_test():
    test = PairTest("xavier_normal", "kaiming_normal", [1, 0, -1], math.nan, math.nan)
    assert steady_cell([test]).startswith("**inconclusive** (fewer than 6 seeds differ)")


def test_a_scale_no_small_fraction_states_exactly_is_shown_as_a_decimal():
    labels = {
        arm_of("xavier_normal", config_of(f"init.scale={scale}")).label for scale in (0.01, 0.012)
    }
    assert labels == {"xavier_normal ×0.01", "xavier_normal ×0.012"}


def test_a_scaled_method_and_the_init_file_stating_its_formula_are_one_arm():
    scaled = arm_of("xavier_normal", config_of("init.scale=0.5"))
    assert scaled == arm_of("xavier_normal_half", config_of("init=xavier_normal_half"))


def test_a_trainer_option_that_changes_the_numbers_is_part_of_the_setting():
    plain, clipped = config_of(), config_of("+trainer.gradient_clip_val=1.0")
    assert setting_of(plain) != setting_of(clipped)


def test_a_model_no_file_builds_is_named_with_the_keys_that_set_it_apart():
    settings = [setting_of(config_of()), setting_of(config_of("model.negative_slope=0"))]
    assert list(setting_names(settings).values()) == [
        "lenet, mnist, model.negative_slope=0.05",
        "LeNet, mnist, model.negative_slope=0",
    ]
