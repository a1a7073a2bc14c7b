"""The pruning callback in a real Trainer, on a tiny model and tiny data."""

import pytest
import pytorch_lightning as pl
import torch
from helpers import TinyData, tiny_trainer

from lottery_init.models import LeNet
from lottery_init.pruning import IterativeMagnitudePruning
from lottery_init.pruning.masks import prunable, remaining
from lottery_init.training.lightning_module import LotteryModule


def tiny_module(population: int = 1) -> LotteryModule:
    torch.manual_seed(0)
    model = LeNet(population, input_shape=[20], hidden=[12, 8], num_classes=3)
    return LotteryModule(model, lr=0.01)


def theta0_by_name(module: LotteryModule, pruning: IterativeMagnitudePruning) -> dict:
    """The callback's θ₀, which follows `parameters()` order, by parameter name."""
    names = [name for name, _ in module.named_parameters()]
    return dict(zip(names, pruning.theta0, strict=True))


def masks_by_name(module: LotteryModule, pruning: IterativeMagnitudePruning) -> dict:
    """The callback's masks, one per prunable weight, by the name of the weight each masks."""
    names = {id(param): name for name, param in module.named_parameters()}
    return {names[id(w)]: m for w, m in zip(prunable(module), pruning.masks, strict=True)}


class Probe(pl.Callback):
    """Records the state right after the pruning callback started each epoch: parameters by
    name, optimizer state, weights remaining."""

    def __init__(self) -> None:
        self.params, self.opt_state, self.remaining = [], [], []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.params.append({n: p.detach().clone() for n, p in pl_module.named_parameters()})
        self.opt_state.append(len(trainer.optimizers[0].state))
        pruning = next(c for c in trainer.callbacks if isinstance(c, IterativeMagnitudePruning))
        self.remaining.append(float(remaining(pruning.masks)[0]))


def fit(epochs: int, every: int, rate: float = 0.2, population: int = 1):
    module, pruning, probe = tiny_module(population), None, Probe()
    pruning = IterativeMagnitudePruning(rate=rate, every_n_epochs=every)
    tiny_trainer(epochs, [pruning, probe]).fit(module, datamodule=TinyData(list(range(population))))
    return module, pruning, probe


def test_pruned_weights_are_exactly_zero_after_optimizer_steps():
    module, pruning, _ = fit(epochs=3, every=1, rate=0.5)
    weights = [layer.weight for layer in module.model.layers]
    for w, m in zip(weights, pruning.masks, strict=True):
        assert (~m).sum() > 0
        assert torch.all(w[~m] == 0)


def test_surviving_weights_of_both_signs_move():
    module, pruning, _ = fit(epochs=2, every=1, rate=0.2)
    theta0, params = theta0_by_name(module, pruning), dict(module.named_parameters())
    for name, m in masks_by_name(module, pruning).items():
        start = theta0[name]
        moved = params[name] != start
        # A survivor whose unit lost every outgoing weight gets no gradient; most others move.
        for sign in (start > 0, start < 0):
            assert moved[m & sign].float().mean() > 0.75


def test_rewind_restores_theta0_and_clears_optimizer_state():
    module, pruning, probe = fit(epochs=2, every=1)
    at_rewind, masks = probe.params[1], masks_by_name(module, pruning)
    for name, start in theta0_by_name(module, pruning).items():
        expected = start * masks[name] if name in masks else start
        assert torch.equal(at_rewind[name], expected), name
    assert probe.opt_state == [0, 0]


def test_optimizer_state_is_not_cleared_within_a_round():
    _, _, probe = fit(epochs=2, every=2)
    assert probe.opt_state[0] == 0 and probe.opt_state[1] > 0


def test_remaining_after_r_rounds_is_0_8_to_the_r():
    _, pruning, probe = fit(epochs=4, every=1)
    # The tiny layers hold 240, 96 and 24 weights, so per-layer rounding moves the total a little.
    assert probe.remaining == pytest.approx([0.8**r for r in range(4)], abs=0.01)
    assert pruning.round == 3


def test_masks_and_round_survive_a_state_dict_round_trip_without_theta0():
    _, pruning, _ = fit(epochs=2, every=1)
    state = pruning.state_dict()
    copy = IterativeMagnitudePruning(rate=0.2, every_n_epochs=1)
    copy.load_state_dict(state)
    assert copy.round == pruning.round == 1
    assert all(torch.equal(a, b) for a, b in zip(copy.masks, pruning.masks, strict=True))
    # θ₀ is regenerated from init method and seed, so the checkpoint does not carry it.
    assert "theta0" not in state and all(m.dtype == torch.uint8 for m in state["masks"])
