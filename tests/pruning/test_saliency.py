"""The maths of pruning at initialization: SNIP, GraSP, SynFlow and |θ₀| on stacked models."""

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch.nn import functional as F

from lottery_init.config.paths import ROOT
from lottery_init.models import LeNet, stacked_layers
from lottery_init.models.initializers import InitMethod, initialize_member
from lottery_init.pruning.at_init_methods import METHODS_AT_INIT, masks_at_init
from lottery_init.pruning.masks import keep_fraction, prunable, shuffle_within_layers
from lottery_init.pruning.saliency import (
    hessian_gradient,
    linearized,
    masked_scores,
    snip_scores,
    synflow_masks,
)
from lottery_init.seeding import generator

MODELS = sorted(p.stem for p in (ROOT / "conf" / "model").glob("*.yaml"))
SHAPES = {"lenet": [1, 28, 28], "lenet5": [1, 16, 16]}  # small images keep the conv nets quick
SETTINGS = {"temperature": 200.0, "iterations": 2}


def tiny_lenet(population: int = 3) -> LeNet:
    """A small double-precision LeNet whose members hold different weights and nonzero biases."""
    torch.manual_seed(0)
    model = LeNet(population, input_shape=[1, 4, 4], hidden=[6, 5], num_classes=3).double()
    with torch.no_grad():
        for layer in stacked_layers(model):
            layer.bias.normal_(0, 0.1)
    return model


def batch(population: int = 3, images: int = 8, shape=(1, 4, 4), classes: int = 3):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(population, images, *shape, generator=gen, dtype=torch.float64)
    return x, torch.randint(0, classes, (population, images), generator=gen)


def member(model: torch.nn.Module, p: int, alone: torch.nn.Module) -> torch.nn.Module:
    """Member `p` of a stacked model, copied into `alone`, the same model as a population of 1."""
    with torch.no_grad():
        for mine, theirs in zip(alone.parameters(), model.parameters(), strict=True):
            mine.copy_(theirs[p : p + 1])
    return alone


def plain_lenet(weights: list[torch.Tensor], biases: list[torch.Tensor], x: torch.Tensor):
    """One LeNet's logits `[B, classes]` from its own `[out, in]` weights, with plain `F.linear`
    (no stacked layer), for images `[B, ...]`."""
    h = x.flatten(1)
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = F.linear(h, w, b)
        h = h if i == len(weights) - 1 else F.leaky_relu(h, 0.05)
    return h


def built(name: str, population: int = 2) -> torch.nn.Module:
    """The model a `conf/model` file builds, for its dataset's image shape."""
    shape = SHAPES.get(name, [3, 8, 8])
    data = {"data": {"shape": shape, "classes": 10}}
    cfg = OmegaConf.merge(data, {"model": OmegaConf.load(ROOT / "conf" / "model" / f"{name}.yaml")})
    torch.manual_seed(0)
    return instantiate(cfg.model, population=population)


def test_snip_scores_equal_autograd_on_each_member_alone():
    model, (x, y) = tiny_lenet(), batch()
    scores = snip_scores(model, (x, y))
    layers = stacked_layers(model)
    for p in range(3):
        weights = [layer.weight[p].detach().clone().requires_grad_() for layer in layers]
        biases = [layer.bias[p].detach() for layer in layers]
        loss = F.cross_entropy(plain_lenet(weights, biases, x[p]), y[p])
        grads = torch.autograd.grad(loss, weights)
        for score, w, g in zip(scores, weights, grads, strict=True):
            torch.testing.assert_close(score[p], (w * g).abs().detach())


@pytest.mark.parametrize("temperature", [1.0, 200.0])
def test_grasp_hessian_gradient_product_matches_finite_differences(temperature):
    model, data = tiny_lenet(), batch()
    g, hg = hessian_gradient(model, data, temperature)
    weights, eps = prunable(model), 1e-5

    def grads_at(step: float) -> list[torch.Tensor]:
        with torch.no_grad():
            for w, d in zip(weights, g, strict=True):
                w.add_(step * d)
        out = hessian_gradient(model, data, temperature)[0]
        with torch.no_grad():
            for w, d in zip(weights, g, strict=True):
                w.sub_(step * d)
        return out

    plus, minus = grads_at(eps), grads_at(-eps)
    for h, a, b in zip(hg, plus, minus, strict=True):
        assert h.abs().max() > 0
        torch.testing.assert_close(h, (a - b) / (2 * eps), rtol=1e-4, atol=1e-9 * h.abs().max())


def test_grasp_keeps_the_weights_of_lowest_minus_theta_hg():
    model, data = tiny_lenet(), batch()
    _, hg = hessian_gradient(model, data, 200.0)
    masks = masks_at_init("grasp", model, 0.3, "global", batch=data, temperature=200.0)
    for p in range(3):
        minus = torch.cat(
            [(-w[p] * h[p]).flatten() for w, h in zip(prunable(model), hg, strict=True)]
        )
        kept = torch.cat([m[p].flatten() for m in masks])
        # Everything GraSP removed scores at least as high as everything it kept.
        assert minus[~kept].min() >= minus[kept].max()


@pytest.mark.parametrize("name", MODELS)
def test_synflow_scores_are_positive_and_conserved_through_every_layer(name):
    model = built(name)
    shape = SHAPES.get(name, [3, 8, 8])
    # The masks of SynFlow's own schedule after 2 of its iterations, and the masked network its
    # next iteration scores.
    masks = synflow_masks(model, shape, 0.2, "global", 2)
    linear = linearized(model)
    start = [w.detach().clone() for w in prunable(linear)]
    scores = masked_scores(linear, start, masks, shape)
    # Biases are zero at θ₀, so the masked network with |θ| is positively homogeneous in each
    # layer's weights: every layer's scores sum to the same R (Tanaka et al. 2020, Theorem 2).
    output = linear(torch.ones(2, 1, *shape, dtype=torch.float64)).sum(dim=(1, 2))
    for s, m in zip(scores, masks, strict=True):
        assert (s >= 0).all() and (s[~m] == 0).all()
        torch.testing.assert_close(s.flatten(1).sum(dim=1), output, rtol=1e-9, atol=0)
    assert (scores[0] > 0).float().mean() > 0.1


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("method", METHODS_AT_INIT)
def test_every_method_keeps_the_exact_fraction_on_every_model(name, method):
    model = built(name).float()
    shape = SHAPES.get(name, [3, 8, 8])
    data = (torch.randn(2, 4, *shape), torch.randint(0, 10, (2, 4)))
    masks = masks_at_init(method, model, 0.05, "global", data, input_shape=shape, **SETTINGS)
    total = sum(m[0].numel() for m in masks)
    kept = sum(m.flatten(1).sum(dim=1) for m in masks)
    assert kept.tolist() == [round(0.05 * total)] * 2


def test_layer_scope_keeps_the_fraction_of_every_layer():
    scores = [torch.rand(2, 7, 9), torch.rand(2, 3, 7)]
    masks = keep_fraction(
        scores, [torch.ones_like(s, dtype=torch.bool) for s in scores], 0.3, "layer"
    )
    assert [m.flatten(1).sum(dim=1).tolist() for m in masks] == [[19, 19], [6, 6]]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("method", METHODS_AT_INIT)
def test_a_members_mask_is_the_one_it_gets_alone(name, method):
    model, shape = built(name, population=3).double(), SHAPES.get(name, [3, 8, 8])
    x, y = batch(3, 4, shape, 10)
    options = {"input_shape": shape, **SETTINGS}
    together = masks_at_init(method, model, 0.2, "global", (x, y), **options)
    for p in range(3):
        alone = member(model, p, built(name, population=1).double())
        mine = masks_at_init(method, alone, 0.2, "global", (x[p : p + 1], y[p : p + 1]), **options)
        assert all(torch.equal(t[p], a[0]) for t, a in zip(together, mine, strict=True))


def test_synflow_iterations_differ_from_one_shot_and_avoid_layer_collapse():
    model = built("lenet", population=1)
    one = masks_at_init("synflow", model, 0.002, "global", input_shape=[1, 28, 28], iterations=1)
    many = masks_at_init("synflow", model, 0.002, "global", input_shape=[1, 28, 28], iterations=20)
    assert any(not torch.equal(a, b) for a, b in zip(one, many, strict=True))
    # Scored once, the first layer's many small scores lose it all (layer collapse).
    assert any(m.sum() == 0 for m in one)
    # Iterating keeps every layer connected at 0.2%, as the paper's conservation argument says.
    assert all(m.sum() > 0 for m in many)


def test_shuffling_keeps_per_layer_counts_and_moves_the_kept_entries():
    masks = keep_fraction(
        [torch.rand(2, 30, 40)], [torch.ones(2, 30, 40, dtype=torch.bool)], 0.1, "layer"
    )
    gens = [generator(seed, "prune/shuffle") for seed in (0, 1)]
    shuffled = shuffle_within_layers(masks, gens)[0]
    assert shuffled.flatten(1).sum(dim=1).tolist() == masks[0].flatten(1).sum(dim=1).tolist()
    overlap = (shuffled & masks[0]).sum().item() / masks[0].sum().item()
    assert overlap < 0.3  # 10% by chance
    again = shuffle_within_layers(masks, [generator(s, "prune/shuffle") for s in (0, 1)])[0]
    assert torch.equal(shuffled, again) and not torch.equal(shuffled[0], shuffled[1])


def test_an_unknown_method_at_initialization_is_refused():
    with pytest.raises(ValueError, match="'snap'"):
        masks_at_init("snap", LeNet(population=1), 0.5, "global")


SYNFLOW = {"input_shape": [1, 28, 28], "iterations": 20}


def initialized(init: str, seed: int) -> LeNet:
    """LeNet-300-100 (one member) at θ₀ of `init`'s file and `seed`."""
    model = LeNet(population=1)
    stated = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "init" / f"{init}.yaml"))
    initialize_member(model, 0, InitMethod(name=init, **stated), seed)
    return model


def test_synflow_keeps_one_mask_for_xavier_and_kaiming_normal_of_one_seed():
    # Both scale one normal draw per layer, and a layer's scale multiplies every score alike.
    masks = {
        init: masks_at_init("synflow", initialized(init, 3), 0.05, "global", **SYNFLOW)
        for init in ("xavier_normal", "kaiming_normal", "xavier_uniform")
    }
    same = zip(masks["xavier_normal"], masks["kaiming_normal"], strict=True)
    assert all(torch.equal(a, b) for a, b in same)
    other = zip(masks["xavier_normal"], masks["xavier_uniform"], strict=True)
    assert not all(torch.equal(a, b) for a, b in other)
