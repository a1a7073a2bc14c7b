"""Per-layer init scales and the layer-scale experiment's arms."""

import math
from pathlib import Path

import pytest
import torch
from helpers import composed

from lottery_init.config.compose import compose
from lottery_init.config.validate import validate
from lottery_init.models import LeNet
from lottery_init.models.initializers import InitMethod, initialize_member
from lottery_init.report.layer_scale import arms, differences, layer_scale_section
from lottery_init.report.read.keys import arm_of
from lottery_init.report.read.sweep import Run
from lottery_init.report.summary import round_stats

FANS = [(784, 300), (300, 100), (100, 10)]
# xavier_normal's standard deviation over kaiming_normal's, per layer, from the study's formulas.
RATIOS = [math.sqrt(2 / (fi + fo)) / math.sqrt(1 / fi) for fi, fo in FANS]


def theta0(method: InitMethod, seed: int = 5) -> list[torch.Tensor]:
    model = LeNet(1)
    initialize_member(model, 0, method, seed)
    return [layer.weight[0].detach() for layer in model.layers]


def test_kaiming_normal_scaled_to_xavier_spreads_draws_xavier_normals_theta0():
    scaled = InitMethod("kaiming_normal", "kaiming", "normal", layer_scales=tuple(RATIOS))
    xavier = InitMethod("xavier_normal", "xavier", "normal")
    for a, b in zip(theta0(scaled), theta0(xavier), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=0)


def test_a_layer_scale_multiplies_only_its_layer():
    plain = theta0(InitMethod("k", "kaiming", "normal"))
    scaled = theta0(InitMethod("k", "kaiming", "normal", layer_scales=(1.0, 2.0, 1.0)))
    assert torch.equal(plain[0], scaled[0]) and torch.equal(plain[2], scaled[2])
    torch.testing.assert_close(scaled[1], 2 * plain[1])


@pytest.mark.parametrize(
    ("arm", "init", "scales"),
    [
        ("kaiming_layer1_at_xavier", "kaiming_normal", [RATIOS[0], 1, 1]),
        ("kaiming_layer3_at_xavier", "kaiming_normal", [1, 1, RATIOS[2]]),
        ("xavier_layer2_at_kaiming", "xavier_normal", [1, 1 / RATIOS[1], 1]),
        ("xavier_all_at_kaiming", "xavier_normal", [1 / r for r in RATIOS]),
    ],
)
def test_each_arm_sets_its_init_and_the_formulas_ratio_for_its_layers(arm, init, scales):
    cfg = compose(["experiment=layer_scale", f"layer_scale={arm}"])
    assert cfg.init.name == init
    assert list(cfg.init.layer_scales) == pytest.approx(scales, rel=1e-5)


def test_the_layer_scale_experiment_sweeps_its_arms_over_the_studys_seeds():
    cfg = composed("experiment=layer_scale")
    assert cfg.hydra.sweeper.params == {"layer_scale": "glob(*)", "seed": "range(11)"}
    assert cfg.init.layer_scales is None and cfg.epochs == 100


def test_layer_scales_must_hold_one_multiplier_per_layer():
    with pytest.raises(ValueError, match=r"^init.layer_scales must hold 3 multipliers, one per"):
        validate([compose(["init.layer_scales=[1.0,2.0]"])])


def test_layer_scales_must_be_positive():
    with pytest.raises(ValueError, match=r"^init.layer_scales must all be positive, got \[1.0"):
        validate([compose(["init.layer_scales=[1.0,0.0,1.0]"])])


def test_a_run_with_layer_scales_gets_its_own_report_label():
    config = {"init": {"layer_scales": [1.2027, 1.0, 1.0]}, "prune": {}}
    assert arm_of("kaiming_normal", config).label == "kaiming_normal (layer scales 1.2027/1/1)"


def arm_runs(accs: dict[str, dict[int, list[float]]]) -> dict[str, list[Run]]:
    """Runs given as init (plus "scaled" for layer scales 1.2027/1/1) -> seed -> accuracies."""
    usable = {}
    for name, by_seed in accs.items():
        init, scaled = name.split(" ")[0], name.endswith("scaled")
        config = {"init": {"layer_scales": [1.2027, 1, 1] if scaled else None}, "prune": {}}
        runs = [
            Run(Path(name), init, seed, "done", rounds_of(acc), [], config)
            for seed, acc in by_seed.items()
        ]
        usable[runs[0].label] = runs
    return usable


def stats_of(accs: dict[str, dict[int, list[float]]]) -> list:
    """Round stats of runs given as in `arm_runs`."""
    return round_stats(arm_runs(accs))


def labels_of(accs: dict[str, dict[int, list[float]]]) -> dict:
    """Each label's arm, for runs given as in `arm_runs`."""
    return {label: runs[0].arm for label, runs in arm_runs(accs).items()}


def rounds_of(accs: list[float]) -> list[dict]:
    return [{"round": r, "remaining": 0.8**r, "test_acc": a} for r, a in enumerate(accs)]


def test_each_arm_is_compared_with_its_own_baseline_seed_by_seed():
    arm = "kaiming_normal (layer scales 1.2027/1/1)"
    accs = {
        "kaiming_normal": {s: [0.90 + s / 100, 0.80 + s / 100] for s in range(4)},
        "kaiming_normal scaled": {
            s: [0.90 + s / 100, 0.82 + s / 100 + (s % 2) / 1000] for s in range(4)
        },
        "xavier_normal": {s: [0.91 + s / 100, 0.85 + s / 100] for s in range(4)},
    }
    stats = stats_of(accs)
    assert arms(labels_of(accs)) == [(arm, "kaiming_normal")]
    found = differences(stats, arm, "kaiming_normal")
    assert found[0][0] == pytest.approx(0) and found[1][0] == pytest.approx(0.0205)
    lines = layer_scale_section(stats, labels_of(accs))
    assert (
        f"| round | remaining | xavier_normal − kaiming_normal | {arm} − kaiming_normal |" in lines
    )
    assert lines[-2] == "| 1 | 80.0% | +5.00* | +2.05* |"


def test_a_sweep_without_layer_scaled_arms_has_no_layer_scale_section():
    accs = {"kaiming_normal": {0: [0.9], 1: [0.91]}}
    assert layer_scale_section(stats_of(accs), labels_of(accs)) == []
