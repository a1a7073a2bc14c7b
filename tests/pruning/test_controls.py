"""The controls and protocol variants: random pruning, magnitude increase, layer rates, late
rewinding and random reinitialization, each by its defining property."""

from functools import partial

import pytest
import torch
from helpers import TINY, TinyData, composed, image_module, tiny_trainer
from test_callback import Probe, masks_by_name, theta0_by_name, tiny_module
from test_pruning import by_magnitude, full

from lottery_init.config.compose import compose, run_config
from lottery_init.config.validate import validate
from lottery_init.models import LeNet
from lottery_init.models.initializers import InitMethod, initialize_member, reinitialize
from lottery_init.pruning import IterativeMagnitudePruning
from lottery_init.pruning.masks import prune_masks
from lottery_init.pruning.scores import prune_scores
from lottery_init.runs.results import read_metrics
from lottery_init.seeding import generator
from lottery_init.training.population import train

XAVIER = InitMethod("xavier_normal", "xavier", "normal")


def random_masks(weights, seeds, round_: int = 0):
    gens = [generator(seed, f"prune/{round_}") for seed in seeds]
    scores = prune_scores("random", weights, weights, gens)
    return prune_masks(scores, [full(*w.shape) for w in weights], [0.2] * len(weights))


def test_random_masks_have_the_magnitude_counts_but_not_the_magnitude_masks():
    weights = [torch.randn(2, 30, 40), torch.randn(2, 10, 30)]
    magnitude = by_magnitude(weights, [full(*w.shape) for w in weights], rate=0.2)
    random = random_masks(weights, seeds=[3, 4])
    for r, m in zip(random, magnitude, strict=True):
        assert r.flatten(1).sum(dim=1).tolist() == m.flatten(1).sum(dim=1).tolist()
        assert not torch.equal(r, m)
    assert all(
        torch.equal(a, b) for a, b in zip(random, random_masks(weights, [3, 4]), strict=True)
    )
    assert not torch.equal(random[0], random_masks(weights, [3, 4], round_=1)[0])


def test_magnitude_increase_prunes_the_weights_that_grew_least():
    start = torch.tensor([[[1.0, -1.0, 0.5, 2.0]]])
    now = torch.tensor([[[1.5, -0.2, 0.6, 2.0]]])
    # |now| - |start| = [0.5, -0.8, 0.1, 0.0]: the shrunken weight and the unchanged one go.
    scores = prune_scores("magnitude_increase", [now], [start], [])
    (mask,) = prune_masks(scores, [full(1, 1, 4)], [0.5])
    assert mask.tolist() == [[[True, False, True, False]]]


def test_layer_rates_give_each_layer_its_own_remaining_count():
    weights = [torch.randn(1, 10, 10), torch.randn(1, 5, 10), torch.randn(1, 2, 10)]
    masks = [full(*w.shape) for w in weights]
    for _ in range(3):
        masks = prune_masks([w.abs() for w in weights], masks, [0.2, 0.2, 0.1])
    # 100 -> 80 -> 64 -> 51 (round(12.8) = 13); 50 -> 40 -> 32 -> 26; 20 -> 18 -> 16 -> 14.
    assert [int(m.sum()) for m in masks] == [51, 26, 14]


def test_reinit_draws_differ_from_theta0_follow_the_spread_and_repeat_for_the_same_seed():
    model = LeNet(2)
    for member, seed in enumerate((0, 1)):
        initialize_member(model, member, XAVIER, seed)
    theta0 = model.layers[0].weight.detach().clone()
    reinitialize(model, [XAVIER, XAVIER], [0, 1], round_=1)
    first = model.layers[0].weight.detach().clone()
    assert not torch.equal(first, theta0)
    assert first.std().item() == pytest.approx(XAVIER.spread(784, 300), rel=0.02)
    reinitialize(model, [XAVIER, XAVIER], [0, 1], round_=1)
    assert torch.equal(model.layers[0].weight, first)
    reinitialize(model, [XAVIER, XAVIER], [0, 1], round_=2)
    assert not torch.equal(model.layers[0].weight, first)


def fit(epochs: int, **options):
    module, probe = tiny_module(), Probe()
    model = module.model
    reinit = partial(reinitialize, model, [XAVIER], [0])
    pruning = IterativeMagnitudePruning(0.2, 2, seeds=[0], reinit=reinit, **options)
    tiny_trainer(epochs, [pruning, probe]).fit(module, datamodule=TinyData([0]))
    return module, pruning, probe


def test_late_rewinding_restores_the_epoch_k_weights_exactly():
    module, pruning, probe = fit(4, rewind="epoch_k", rewind_epoch=1)
    # probe.params[k] are the weights at the start of epoch k: after 1 epoch, and after rewinding.
    after_one_epoch, rewound = probe.params[1], probe.params[2]
    masks = masks_by_name(module, pruning)
    for name, k in after_one_epoch.items():
        expected = k * masks[name] if name in masks else k
        assert torch.equal(rewound[name], expected), name
    first = "model.layers.0.weight"
    assert not torch.equal(after_one_epoch[first], theta0_by_name(module, pruning)[first])


def test_reinit_rewinds_the_survivors_to_a_fresh_draw_of_the_same_method():
    module, pruning, probe = fit(4, rewind="reinit")
    fresh = LeNet(1, input_shape=[20], hidden=[12, 8], num_classes=3)
    reinitialize(fresh, [XAVIER], [0], round_=1)
    first = "model.layers.0.weight"
    rewound, mask = probe.params[2][first], masks_by_name(module, pruning)[first]
    assert torch.equal(rewound, fresh.layers[0].weight.detach() * mask)
    assert not torch.equal(rewound, theta0_by_name(module, pruning)[first] * mask)


def test_the_validation_split_is_disjoint_from_training_and_the_same_for_every_seed(mnist_raw):
    def split(seeds):
        sizes = ("data.train_size=3000", "data.val_size=500")
        data = image_module(seeds, mnist_raw.parents[1], *sizes)
        data.setup()
        return data.split

    one, other = split([0]), split([5, 6])
    assert torch.equal(one["val"], other["val"]) and torch.equal(one["train"], other["train"])
    assert len(one["val"]) == 500 and len(one["train"]) == 2500
    assert sorted(torch.cat([one["train"], one["val"]]).tolist()) == list(range(3000))


def test_early_stopping_epoch_is_the_least_validation_loss_of_each_round(tmp_path, mnist_raw):
    cfg = compose([*TINY, "data.val_size=200", "epochs=6", "prune.every_n_epochs=3"])
    info = train(cfg, tmp_path)
    rows = read_metrics(tmp_path)
    assert all("val_loss" in row and 0 < row["val_acc"] <= 1 for row in rows)
    for entry in info["rounds"]:
        in_round = [row for row in rows if row["round"] == entry["round"]]
        best = min(in_round, key=lambda row: row["val_loss"])
        assert entry["early_stop_epoch"] == best["epoch"]
        assert entry["early_stop_test_acc"] == pytest.approx(best["test_acc"])


def test_layer_rates_through_the_config_give_each_layer_its_remaining_fraction(tmp_path, mnist_raw):
    cfg = compose([*TINY, "epochs=3", "prune.every_n_epochs=1", "prune.layer_rates=[0.2,0.2,0.1]"])
    info = train(cfg, tmp_path)
    assert info["rounds"][2]["layer_remaining"] == pytest.approx([0.64, 0.64, 0.81], abs=1e-3)


def test_layer_rates_with_global_scope_are_refused_before_any_work():
    cfg = compose(["prune.scope=global", "prune.layer_rates=[0.2,0.2,0.1]"])
    with pytest.raises(ValueError, match=r"^prune.layer_rates needs prune.scope=layer.$"):
        validate([cfg])


def test_frankle2019_experiment_holds_their_lenet_protocol():
    cfg = composed("experiment=frankle2019")
    assert (cfg.lr, cfg.batch_size, cfg.data.val_size, cfg.model.negative_slope) == (
        0.0012,
        60,
        5000,
        0,
    )
    assert list(cfg.prune.layer_rates) == [0.2, 0.2, 0.1] and cfg.init.scheme == "xavier"
    # 50,000 iterations per round over 55,000 images in batches of 60.
    assert cfg.prune.every_n_epochs == round(50_000 / (55_000 / 60))
    validate([run_config(cfg)])


def test_controls_experiment_adds_reinit_and_random_pruning_to_the_grid():
    cfg = composed("experiment=controls")
    assert cfg.hydra.sweeper.params == {
        "init": "glob(*)",
        "seed": "range(11)",
        "prune": "imp,imp_reinit,imp_random",
    }
    for option, (method, rewind) in {
        "imp_reinit": ("magnitude", "reinit"),
        "imp_random": ("random", "init"),
    }.items():
        prune = compose([f"prune={option}"]).prune
        assert (prune.method, prune.rewind, prune.rate, prune.every_n_epochs) == (
            method,
            rewind,
            0.2,
            5,
        )


def test_output_layer_experiment_holds_the_study_beside_half_rate_output_and_global_scope():
    params = composed("experiment=output_layer").hydra.sweeper.params
    assert params.prune == "imp,imp_output_half,imp_global" and params.seed == "range(11)"
    study = compose(["experiment=seed_paper"])
    for option, (scope, rates) in {
        "imp": ("layer", None),
        "imp_output_half": ("layer", [0.2, 0.2, 0.1]),
        "imp_global": ("global", None),
    }.items():
        cfg = compose(["experiment=output_layer", f"prune={option}"])
        validate([cfg])
        prune = cfg.prune
        assert (prune.scope, prune.layer_rates and list(prune.layer_rates)) == (scope, rates)
        # Everything else is the study's run.
        same = {k: v for k, v in cfg.items() if k != "prune"}
        assert same == {k: v for k, v in study.items() if k != "prune"}
        assert (prune.rate, prune.every_n_epochs, prune.rewind) == (0.2, 5, "init")
