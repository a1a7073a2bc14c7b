"""The report on pruning at initialization: one-shot runs against IMP's round ends at equal
weights remaining, per method and init method, paired by seed."""

import json
import math
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from lottery_init.config.compose import compose
from lottery_init.report.at_init.pairs import paired_tests
from lottery_init.report.at_init.runs import IMP, Method, accuracies
from lottery_init.report.at_init.section import at_init_section
from lottery_init.report.command import write_reports
from lottery_init.report.read.sweep import Run

BASES = {0: 0.90, 1: 0.96, 2: 0.93, 3: 0.99}  # seed effects far larger than the gaps paired_tests


def one_shot(method: str, init: str, seed: int, fraction: float, acc: float, **prune) -> Run:
    """A finished run that kept `fraction` of its weights at init and reached `acc`."""
    config = {"prune": {"method": method, "remaining": fraction, "rewind": "init"} | prune}
    rounds = [{"round": 0, "epoch": 19, "remaining": fraction, "test_acc": acc}]
    return Run(Path(f"{method}_{init}_{seed}_{fraction}"), init, seed, "done", rounds, [], config)


def imp(init: str, seed: int, acc: float = 0.98, scope: str = "layer") -> Run:
    """An IMP run of 20 rounds losing one point per round: linear in log(remaining)."""
    rounds = [{"round": r, "remaining": 0.8**r, "test_acc": acc - 0.01 * r} for r in range(20)]
    config = {"prune": {"rate": 0.2, "every_n_epochs": 5, "method": "magnitude", "scope": scope}}
    return Run(Path(f"imp_{init}_{seed}"), init, seed, "done", rounds, [], config)


def test_a_one_shot_run_counts_at_its_fraction_and_imp_is_interpolated_there():
    accs, _ = accuracies(
        [one_shot("snip", "xavier_normal", 0, 0.05, 0.9)], [imp("xavier_normal", 0)]
    )
    assert accs[Method("snip", "", "xavier_normal")] == {0.05: {0: 0.9}}
    rounds = math.log(0.05) / math.log(0.8)  # 13.4 rounds of 20%
    assert accs[Method(IMP, "", "xavier_normal")][0.05][0] == pytest.approx(0.98 - 0.01 * rounds)


def test_imp_gets_no_number_below_its_last_round():
    accs, _ = accuracies(
        [one_shot("snip", "xavier_normal", 0, 0.01, 0.9)], [imp("xavier_normal", 0)]
    )
    assert Method(IMP, "", "xavier_normal") not in accs


def test_the_shuffled_control_is_its_own_method_and_compared_seed_by_seed():
    runs = [one_shot("synflow", "kaiming_normal", s, 0.05, b + 0.01) for s, b in BASES.items()]
    runs += [
        one_shot("synflow", "kaiming_normal", s, 0.05, b, shuffle=True) for s, b in BASES.items()
    ]
    runs[0].rounds[0]["test_acc"] += 0.002  # differences that vary a little
    (test, comparison), *_ = paired_tests(accuracies(runs, [])[0], "global")
    assert test == (
        "mask vs shuffled",
        Method("synflow", "", "kaiming_normal"),
        Method("synflow", "shuffled", "kaiming_normal"),
        0.05,
    )
    # Paired by seed the one-point gap is clear; the seeds' own spread (9 points) would hide it.
    assert comparison.paired and comparison.diff == pytest.approx(0.0105)
    assert comparison.p_holm < 0.01


def test_holm_adjusts_over_the_tests_of_a_kind_at_one_fraction():
    runs = []
    for method, gap in (("snip", 0.01), ("grasp", 0.002)):
        for s, b in BASES.items():
            runs.append(one_shot(method, "xavier_normal", s, 0.05, b + gap + 0.001 * (s % 2)))
            runs.append(one_shot(method, "xavier_normal", s, 0.05, b, shuffle=True))
    tests = paired_tests(accuracies(runs, [])[0], "global")
    done = [c for t, c in tests if t[0] == "mask vs shuffled"]
    smallest = min(c.p for c in done)
    assert min(c.p_holm for c in done) == pytest.approx(min(1.0, 2 * smallest))


def test_init_methods_are_compared_within_each_method_and_imp_against_each_method():
    runs = [
        one_shot("snip", init, s, 0.05, 0.9, scope="layer")
        for init in ("xavier_normal", "kaiming_normal")
        for s in (0, 1, 2)
    ]
    iterative = [
        imp(init, s, 0.97 + 0.001 * s)
        for init in ("xavier_normal", "kaiming_normal")
        for s in (0, 1, 2)
    ]
    kinds = [
        (t[0], t[1].label, t[2].label)
        for t, _ in paired_tests(accuracies(runs, iterative)[0], "layer")
    ]
    assert ("IMP vs method", IMP, "snip") in kinds
    assert ("init vs init", "snip", "snip") in kinds and ("init vs init", IMP, IMP) in kinds


def test_the_section_draws_its_figure_and_tables(tmp_path):
    runs = [one_shot("snip", "xavier_normal", s, f, 0.9) for s in (0, 1) for f in (0.2, 0.05)]
    lines = at_init_section(runs, [imp("xavier_normal", 0), imp("xavier_normal", 1)], tmp_path)
    assert lines[0] == "## Pruning at initialization"
    assert (tmp_path / "at_init.png").stat().st_size > 0
    assert "| snip | xavier_normal | 2 | 90.00 ± 0.00 | 90.00 ± 0.00 |" in lines


def test_a_sweep_without_one_shot_runs_has_no_section(tmp_path):
    assert at_init_section([], [imp("xavier_normal", 0)], tmp_path) == []


def test_a_folder_of_one_shot_runs_gets_an_index_with_the_section(tmp_path):
    for run in [
        one_shot(m, "xavier_normal", s, 0.05, 0.9 + 0.01 * s)
        for m in ("snip", "grasp")
        for s in (0, 1)
    ]:
        folder = tmp_path / run.dir
        folder.mkdir()
        info = {"init": run.init, "seed": run.seed, "status": "done", "rounds": run.rounds}
        (folder / "run.json").write_text(json.dumps(info | {"config": run.config}))
    outs = write_reports(tmp_path)
    assert outs == [tmp_path / "report"]
    text = (tmp_path / "report" / "report.md").read_text()
    assert text.startswith(f"# Report: {tmp_path.name}\n")
    assert "## Pruning at initialization" in text and (tmp_path / "report" / "at_init.png").exists()


def composed_run(overrides: list[str], seed: int, rounds: list[dict]) -> Run:
    """A run with the config the entry point would record for `overrides`."""
    config = OmegaConf.to_container(compose([*overrides, f"seed={seed}"]), resolve=True)
    return Run(
        Path(f"{'_'.join(overrides)}_{seed}"), "xavier_normal", seed, "done", rounds, [], config
    )


def test_imp_runs_of_the_studys_command_are_the_reference_of_a_20_epoch_sweep(tmp_path):
    one = [{"round": 0, "remaining": 0.05, "test_acc": 0.95}]
    runs = [composed_run(["prune=snip", "epochs=20"], s, one) for s in (0, 1)]
    iterative = [composed_run([], s, imp("xavier_normal", s).rounds) for s in (0, 1)]
    lines = at_init_section(runs, iterative, tmp_path)
    assert any(line.startswith("| IMP | xavier_normal | 2 |") for line in lines)
    assert "One-shot masks trained 20 epochs; IMP's rounds 5 epochs each." in lines


def test_imp_of_another_schedule_is_named_by_it_and_not_the_reference():
    other = imp("xavier_normal", 0)
    other.config["prune"] |= {"rate": 0.4, "every_n_epochs": 2}
    accs, _ = accuracies([one_shot("snip", "xavier_normal", 0, 0.05, 0.9)], [other])
    assert {m.name for m in accs} == {"snip", "IMP 0.4/2"}


def test_the_reinit_control_is_compared_with_the_mask_at_theta0():
    runs = [one_shot("snip", "xavier_normal", s, 0.05, BASES[s]) for s in (0, 1, 2)]
    runs += [
        one_shot("snip", "xavier_normal", s, 0.05, BASES[s] - 0.01, rewind="reinit")
        for s in (0, 1, 2)
    ]
    (test, _), *_ = paired_tests(accuracies(runs, [])[0], "global")
    assert test[0] == "θ₀ vs reinit" and test[2] == Method("snip", "reinit", "xavier_normal")


def test_a_repeat_counts_once_and_is_listed():
    runs = [
        one_shot("snip", "xavier_normal", 0, 0.05, 0.9),
        one_shot("snip", "xavier_normal", 0, 0.05, 0.5),
    ]
    runs[1].dir = Path("again")
    accs, left = accuracies(runs, [])
    assert accs[Method("snip", "", "xavier_normal")] == {0.05: {0: 0.9}}
    assert left == ["again: repeat, not used"]


def test_a_changed_scoring_setting_is_a_method_of_its_own():
    runs = [one_shot("snip", "xavier_normal", 0, 0.05, 0.9, images=100)]
    runs.append(one_shot("snip", "xavier_normal", 0, 0.05, 0.8, images=10))
    accs, left = accuracies(runs, [])
    assert {m.name for m in accs} == {"snip", "snip (images=10)"} and left == []


def test_a_failed_run_is_listed_with_its_reason():
    failed = one_shot("grasp", "xavier_normal", 1, 0.05, 0.9)
    failed.status, failed.reason, failed.rounds = "failed", "loss is not finite in epoch 3", []
    _, left = accuracies([one_shot("grasp", "xavier_normal", 0, 0.05, 0.9), failed], [])
    assert left == [f"{failed.dir.name}: failed: loss is not finite in epoch 3"]


def test_a_group_with_no_finished_run_says_so_without_a_figure(tmp_path):
    running = one_shot("synflow", "xavier_normal", 0, 0.05, 0.9)
    running.status, running.rounds = "running", []
    lines = at_init_section([running], [imp("xavier_normal", 0)], tmp_path)
    assert "No one-shot run has finished yet." in lines
    assert not (tmp_path / "at_init.png").exists()


def kinds_against_imp(scope: str, imp_scope: str) -> list[tuple[str, str]]:
    """The IMP tests of 3 seeds' global or per-layer SNIP masks beside IMP runs of `imp_scope`."""
    runs = [one_shot("snip", "xavier_normal", s, 0.05, 0.9, scope=scope) for s in (0, 1, 2)]
    iterative = [imp("xavier_normal", s, 0.97 + 0.001 * s, imp_scope) for s in (0, 1, 2)]
    tests = paired_tests(accuracies(runs, iterative)[0], scope)
    return [(t[1].label, t[2].label) for t, _ in tests if t[0] == "IMP vs method"]


def test_imp_is_tested_only_against_masks_of_its_own_scope():
    assert kinds_against_imp("global", "layer") == []
    assert kinds_against_imp("global", "global") == [("IMP, global", "snip")]
    assert kinds_against_imp("layer", "layer") == [("IMP", "snip")]


def test_the_section_says_when_imp_and_the_masks_differ_in_scope(tmp_path):
    runs = [one_shot("snip", "xavier_normal", s, 0.05, 0.9, scope="global") for s in (0, 1)]
    text = "\n".join(at_init_section(runs, [imp("xavier_normal", 0)], tmp_path))
    assert "the scopes differ, so IMP is shown but not tested against them" in text
    assert "**IMP vs method**" not in text


def test_the_density_table_shows_what_each_mask_keeps_per_layer(tmp_path):
    runs = [one_shot("snip", "xavier_normal", s, 0.05, 0.9, scope="layer") for s in (0, 1)]
    for run, first in zip(runs, (0.02, 0.04), strict=True):
        run.rounds[-1]["layer_remaining"] = [first, 0.1, 0.5]
    iterative = [imp("xavier_normal", 0)]
    for entry in iterative[0].rounds:
        entry["layer_remaining"] = [entry["remaining"]] * 3
    lines = at_init_section(runs, iterative, tmp_path)
    assert "| 5% | snip | xavier_normal | 3 | 10 | 50 |" in lines
    # IMP's round 13 (0.8^13 = 5.5%) is the nearest to 5% in log(remaining).
    assert f"| 5% | IMP | xavier_normal | {100 * 0.8**13:.3g} | {100 * 0.8**13:.3g} " in "\n".join(
        lines
    )
