"""Pruning at initialization in a real Trainer and through the entry point: one mask, scored
on θ₀ before the first step, held for the whole run, and its controls."""

from functools import partial

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from helpers import TINY, TinyData, tiny_trainer
from hydra.utils import instantiate

from lottery_init.config.compose import compose
from lottery_init.config.paths import data_dir
from lottery_init.models import LeNet
from lottery_init.models.initializers import InitMethod, initialize_member, reinitialize
from lottery_init.pruning import PruningAtInit
from lottery_init.pruning.at_init_methods import masks_at_init
from lottery_init.pruning.masks import prunable
from lottery_init.runs.masks_file import load_masks
from lottery_init.runs.results import read_run
from lottery_init.training.lightning_module import LotteryModule
from lottery_init.training.population import train

XAVIER = InitMethod("xavier_normal", "xavier", "normal")


class Probe(pl.Callback):
    """The weights and masks at the start of each epoch."""

    def __init__(self) -> None:
        self.weights, self.masks = [], []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        pruning = next(c for c in trainer.callbacks if isinstance(c, PruningAtInit))
        self.weights.append([w.detach().clone() for w in prunable(pl_module)])
        self.masks.append([m.clone() for m in pruning.masks])


def tiny_module(population: int = 2) -> LotteryModule:
    model = LeNet(population, input_shape=[20], hidden=[12, 8], num_classes=3)
    for member in range(population):
        initialize_member(model, member, XAVIER, member)
    return LotteryModule(model, lr=0.01)


def fit(epochs: int = 2, population: int = 2, module=None, **options):
    """Train a tiny population pruned at init; the module, callback, probe and data."""
    module = module or tiny_module(population)
    seeds = list(range(population))
    reinit = partial(reinitialize, module.model, [XAVIER] * population, seeds)
    options = {"method": "snip", "images": 10, "remaining": 0.1} | options
    pruning = PruningAtInit(every_n_epochs=epochs, seeds=seeds, reinit=reinit, **options)
    probe, data = Probe(), TinyData(seeds)
    tiny_trainer(epochs, [pruning, probe]).fit(module, datamodule=data)
    return module, pruning, probe, data


def test_the_mask_is_the_methods_on_theta0_and_each_members_first_images():
    theta0 = tiny_module()
    _, pruning, probe, _ = fit(module=tiny_module())
    # Fresh data: the first images of each member's first epoch, before training moved on.
    expected = masks_at_init("snip", theta0.model, 0.1, "global", TinyData([0, 1]).first_images(10))
    assert all(torch.equal(m, e) for m, e in zip(pruning.masks, expected, strict=True))
    # Training starts from θ₀ with the pruned weights at zero.
    start = probe.weights[0]
    for w, w0, m in zip(start, prunable(theta0), expected, strict=True):
        assert torch.equal(w, w0.detach() * m)


def test_the_mask_stays_fixed_and_pruned_weights_stay_zero():
    module, pruning, probe, _ = fit(epochs=3)
    assert pruning.round == 0 and pruning.pruned
    for later in probe.masks[1:]:
        assert all(torch.equal(a, b) for a, b in zip(later, probe.masks[0], strict=True))
    for w, m in zip(prunable(module), pruning.masks, strict=True):
        assert (~m).sum() > 0 and torch.all(w[~m] == 0)


def test_the_shuffled_control_keeps_each_layers_counts_in_other_places():
    _, plain, _, _ = fit()
    _, shuffled, _, _ = fit(shuffle=True)
    for a, b in zip(plain.masks, shuffled.masks, strict=True):
        assert a.flatten(1).sum(dim=1).tolist() == b.flatten(1).sum(dim=1).tolist()
    assert any(not torch.equal(a, b) for a, b in zip(plain.masks, shuffled.masks, strict=True))


def test_the_reinit_control_trains_the_mask_from_a_fresh_draw():
    _, pruning, probe, _ = fit(rewind="reinit")
    fresh = LeNet(2, input_shape=[20], hidden=[12, 8], num_classes=3)
    reinitialize(fresh, [XAVIER] * 2, [0, 1], round_=1)
    for w, f, m in zip(probe.weights[0], prunable(fresh), pruning.masks, strict=True):
        assert torch.equal(w, f.detach() * m)


def test_a_resumed_run_keeps_its_mask_and_weights(tmp_path):
    module, first, _, data = fit(epochs=2, rewind="reinit")
    trainer = tiny_trainer(2, [first])
    trainer.strategy.connect(module)
    trainer.save_checkpoint(tmp_path / "last.ckpt", weights_only=False)
    trained = [w.detach().clone() for w in prunable(module)]
    # A fresh process: the model as built (θ₀), the callback restored from the checkpoint.
    again = PruningAtInit(0.1, 3, method="snip", images=10, seeds=[0, 1], rewind="reinit")
    probe = Probe()
    tiny_trainer(3, [again, probe]).fit(
        tiny_module(), datamodule=data, ckpt_path=tmp_path / "last.ckpt"
    )
    assert all(torch.equal(a, b) for a, b in zip(again.masks, first.masks, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(probe.weights[0], trained, strict=True))


def test_a_run_pruned_at_init_records_one_round_at_the_exact_fraction(tmp_path, mnist_raw):
    info = train(
        compose([*TINY, "prune=magnitude_at_init", "prune.remaining=0.02", "epochs=1"]), tmp_path
    )
    total = 784 * 300 + 300 * 100 + 100 * 10
    assert [r["round"] for r in info["rounds"]] == [0]
    assert info["rounds"][0]["remaining"] == round(0.02 * total) / total
    masks = load_masks(tmp_path)[0]
    assert sum(int(np.sum(m)) for m in masks) == round(0.02 * total)
    assert read_run(tmp_path)["config"]["prune"]["method"] == "magnitude_at_init"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["prune=snip", "prune.remaining=1"], r"prune.remaining must lie in \(0, 1\), got 1."),
        (["prune=snip", "prune.images=null"], "prune.method=snip scores on prune.images training"),
        (["prune=grasp", "prune.temperature=0"], "prune.temperature must be positive, got 0."),
        (["prune=synflow", "prune.iterations=0"], "prune.iterations must be 1 or more, got 0."),
        (
            ["prune=snip", "prune.rewind=epoch_k"],
            r"prune.rewind must be one of \('init', 'reinit'\)",
        ),
        (["prune=snip", "prune.every_n_epochs=5"], "pruning at initialization trains one round"),
        (
            ["prune=snip", "+prune.rate=0.2"],
            "prune.rate is no option of PruningAtInit; its options",
        ),
        (["+prune.remaining=0.1"], "prune.remaining is no option of IterativeMagnitudePruning"),
        (["prune=grasp", "prune.images_per_class=0"], "prune.images_per_class must be 1 or more"),
        (["prune=synflow", "prune.images_per_class=2"], "prune.method=synflow scores on no images"),
    ],
)
def test_a_bad_pruning_at_init_config_stops_before_training(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        train(compose([*TINY, *overrides]), tmp_path)
    assert not (tmp_path / "metrics.csv").exists()


def test_first_images_are_what_each_members_first_steps_train_on(mnist_raw):
    data = compose(TINY).data
    module = instantiate(data, seeds=[0, 1], data_dir=data_dir(data.data_dir))
    module.setup()
    x, y = module.first_images(100)
    chunk = next(iter(module.train_dataloader()))  # batches of 60, each member in its own order
    assert torch.equal(x, torch.cat([b[0] for b in chunk[:2]], dim=1)[:, :100])
    assert torch.equal(y, torch.cat([b[1] for b in chunk[:2]], dim=1)[:, :100])
    assert not torch.equal(x[0], x[1])


def test_a_class_balanced_batch_is_each_members_first_images_of_every_class(mnist_raw):
    data = compose(TINY).data
    module = instantiate(data, seeds=[0, 1], data_dir=data_dir(data.data_dir))
    module.setup()
    x, y = module.first_images_per_class(3)
    assert y.shape == (2, 30)
    # Class by class, each member's first 3 of that class in its own first epoch's order.
    first, labels = module.first_images(600)
    for member in range(2):
        for c in range(10):
            own = first[member][labels[member] == c][:3]
            assert torch.equal(x[member, 3 * c : 3 * c + 3], own)
            assert (y[member, 3 * c : 3 * c + 3] == c).all()
    assert not torch.equal(x[0], x[1])


def test_grasp_with_images_per_class_scores_on_the_class_balanced_batch(mnist_raw):
    data = compose(TINY).data
    module = instantiate(data, seeds=[0, 1], data_dir=data_dir(data.data_dir))
    module.setup()
    model = LeNet(population=2)
    settings = {"remaining": 0.1, "every_n_epochs": 1, "method": "grasp", "temperature": 200.0}
    masks = PruningAtInit(**settings, images=20, images_per_class=2).score(model, module)
    balanced = module.first_images_per_class(2)
    expected = masks_at_init("grasp", model, 0.1, "global", balanced, temperature=200.0)
    assert all(torch.equal(a, b) for a, b in zip(masks, expected, strict=True))
    first = PruningAtInit(**settings, images=20).score(model, module)
    assert not all(torch.equal(a, b) for a, b in zip(masks, first, strict=True))


def test_a_class_balanced_batch_larger_than_the_rarest_class_is_refused(mnist_raw):
    data = compose(TINY).data
    module = instantiate(data, seeds=[0], data_dir=data_dir(data.data_dir))
    module.setup()
    with pytest.raises(ValueError, match="images of its rarest class"):
        module.first_images_per_class(100)
