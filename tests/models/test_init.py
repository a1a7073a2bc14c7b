"""Init methods: every `conf/init/*.yaml` file samples the spread of the study's formula."""

import math

import pytest
import torch
from helpers import INIT_FILES
from omegaconf import OmegaConf

from lottery_init.models import LeNet
from lottery_init.models.initializers import InitMethod, initialize_member

# The study's table, written out independently of the code under test.
FORMULA = {
    ("xavier", "uniform"): lambda fi, fo: math.sqrt(6 / (fi + fo)),
    ("xavier", "normal"): lambda fi, fo: math.sqrt(2 / (fi + fo)),
    ("kaiming", "uniform"): lambda fi, fo: math.sqrt(3 / fi),
    ("kaiming", "normal"): lambda fi, fo: math.sqrt(1 / fi),
}


def method(path) -> InitMethod:
    return InitMethod(name=path.stem, **OmegaConf.to_container(OmegaConf.load(path)))


def sampled(path, seed: int = 0, population: int = 1, member: int = 0) -> LeNet:
    model = LeNet(population)
    initialize_member(model, member, method(path), seed)
    return model


@pytest.mark.parametrize("path", INIT_FILES, ids=lambda p: p.stem)
def test_each_layer_has_the_formula_spread(path):
    m = method(path)
    for layer in sampled(path).layers:
        w = layer.weight[0].double()
        fan_out, fan_in = w.shape
        spread = FORMULA[m.scheme, m.distribution](fan_in, fan_out) * m.scale * m.gain
        # The sample standard deviation of n draws has a relative error of about 1 / sqrt(2n).
        tol = 5 / math.sqrt(2 * w.numel())
        if m.distribution == "uniform":
            assert w.abs().max() <= spread
            assert w.abs().max() > spread * (1 - 20 / w.numel())
            assert w.std().item() == pytest.approx(spread / math.sqrt(3), rel=tol)
        else:
            assert w.std().item() == pytest.approx(spread, rel=tol)
        assert abs(w.mean().item()) < 5 * w.std().item() / math.sqrt(w.numel())


@pytest.mark.parametrize("path", INIT_FILES, ids=lambda p: p.stem)
def test_biases_start_at_zero(path):
    model = LeNet(1)
    for layer in model.layers:
        layer.bias.data.fill_(1.0)
    initialize_member(model, 0, method(path), seed=3)
    assert all(torch.equal(layer.bias, torch.zeros_like(layer.bias)) for layer in model.layers)


@pytest.mark.parametrize("path", INIT_FILES, ids=lambda p: p.stem)
def test_same_seed_reproduces_theta0_bit_for_bit(path):
    a, b = sampled(path, seed=0), sampled(path, seed=0, population=3, member=2)
    for la, lb in zip(a.layers, b.layers, strict=True):
        assert torch.equal(la.weight[0], lb.weight[2])


@pytest.mark.parametrize("path", INIT_FILES, ids=lambda p: p.stem)
def test_different_seeds_differ(path):
    a, b = sampled(path, seed=0), sampled(path, seed=1)
    for la, lb in zip(a.layers, b.layers, strict=True):
        assert not torch.equal(la.weight, lb.weight)


def test_xavier_is_wider_than_kaiming_in_every_layer():
    for fan_in, fan_out in [(784, 300), (300, 100), (100, 10)]:
        for dist in ("uniform", "normal"):
            xavier = InitMethod("x", "xavier", dist).spread(fan_in, fan_out)
            kaiming = InitMethod("k", "kaiming", dist).spread(fan_in, fan_out)
            assert xavier > kaiming


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="init.scheme must be one of"):
        InitMethod("bad", "lecun", "normal")
