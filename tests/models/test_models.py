"""Every model behind the stacked-layer contract: conv populations as grouped convolutions, each
member its own network, on every dataset shape, initialized, pruned and reported as LeNet is."""

import pytest
import torch
from helpers import TINY
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn

from lottery_init.config.compose import compose
from lottery_init.config.validate import layer_count
from lottery_init.models import ConvNet, StackedConv2d, stacked_layers
from lottery_init.models.initializers import InitMethod, initialize_member
from lottery_init.pruning.masks import prunable, prune_masks
from lottery_init.pruning.scores import prune_scores
from lottery_init.report.distributions import layer_shapes, run_model
from lottery_init.runs.masks_file import load_masks
from lottery_init.training.population import train

MODELS = ["lenet", "lenet5", "conv2", "conv4", "conv6"]
KAIMING = InitMethod("kaiming_normal", "kaiming", "normal")


def recorded(cfg: DictConfig) -> dict:
    """A run config as `run.json` records it."""
    return OmegaConf.to_container(cfg, resolve=True)


def test_a_stacked_convolution_is_each_members_own_conv2d_forward_and_backward():
    torch.manual_seed(0)
    population, batch = 3, 4
    layer = StackedConv2d(population, 2, 5, kernel_size=3, padding=1).double()
    x = torch.randn(population, batch, 2, 8, 8, dtype=torch.double, requires_grad=True)
    out = layer(x.transpose(0, 1).flatten(1, 2)).view(batch, population, 5, 8, 8).transpose(0, 1)
    out.square().sum().backward()
    for p in range(population):
        alone = nn.Conv2d(2, 5, 3, padding=1).double()
        with torch.no_grad():
            alone.weight.copy_(layer.weight[p])
            alone.bias.copy_(layer.bias[p])
        x_p = x[p].detach().clone().requires_grad_(True)
        expected = alone(x_p)
        expected.square().sum().backward()
        torch.testing.assert_close(out[p], expected, rtol=0, atol=1e-12)
        torch.testing.assert_close(layer.weight.grad[p], alone.weight.grad, rtol=0, atol=1e-10)
        torch.testing.assert_close(layer.bias.grad[p], alone.bias.grad, rtol=0, atol=1e-10)
        torch.testing.assert_close(x.grad[p], x_p.grad, rtol=0, atol=1e-12)


def test_a_convolutions_fans_are_pytorchs_channels_times_kernel_area():
    layer = StackedConv2d(2, 6, 16, kernel_size=5, padding=0)
    fans = nn.init._calculate_fan_in_and_fan_out(layer.weight[0])
    assert layer.fans == fans == (6 * 25, 16 * 25)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("data", ["mnist", "cifar10"])
def test_every_model_runs_on_every_image_shape(model, data):
    cfg = compose([f"model={model}", f"data={data}"])
    net = run_model(recorded(cfg))
    logits = net(torch.zeros(1, 2, *cfg.data.shape))
    assert logits.shape == (1, 2, cfg.data.classes)
    assert len(stacked_layers(net)) == layer_count(cfg.model)


def test_lenet5_has_the_papers_layers_on_mnist():
    cfg = compose(["model=lenet5"])
    shapes = layer_shapes(recorded(cfg))
    assert shapes == [(25, 150), (150, 400), (400, 120), (120, 84), (84, 10)]


def test_a_conv_layers_theta0_has_the_formulas_spread():
    net = ConvNet(1, (1, 28, 28), 10, convs=[64], hidden=[], kernel_size=5, padding=[2])
    initialize_member(net, 0, KAIMING, seed=0)
    weight = stacked_layers(net)[0].weight[0]
    assert weight.std().item() == pytest.approx(1 / 5, rel=0.05)  # sqrt(1 / (1 * 5 * 5))
    assert net.layers[0].bias.abs().sum() == 0


def test_pruning_a_conv_network_keeps_each_layers_exact_count():
    net = run_model(recorded(compose(["model=lenet5"])))
    weights = prunable(net)
    masks = [torch.ones_like(w, dtype=torch.bool) for w in weights]
    new = prune_masks(prune_scores("magnitude", weights, weights, []), masks, [0.2] * 5)
    for mask, weight in zip(new, weights, strict=True):
        assert mask.shape == weight.shape
        assert mask.sum().item() == weight.numel() - round(0.2 * weight.numel())


def test_lenet5_trains_prunes_and_keeps_its_masks_per_layer(tmp_path, mnist_raw):
    info = train(compose([*TINY, "model=lenet5", "epochs=2", "prune.every_n_epochs=1"]), tmp_path)
    assert info["rounds"][1]["layer_remaining"] == pytest.approx([0.8] * 5, abs=2e-3)
    assert info["rounds"][1]["test_acc"] > 0.3  # chance is 0.1
    shapes = [tuple(m.shape) for m in load_masks(tmp_path)[1]]
    assert shapes == [(6, 1, 5, 5), (16, 6, 5, 5), (120, 400), (84, 120), (10, 84)]


def unstacked(net: ConvNet, member: int, x: torch.Tensor) -> torch.Tensor:
    """Member `member`'s logits computed layer by layer with torch's own unstacked functions."""
    h = x
    for i, layer in enumerate(net.layers[: net.convs]):
        w, b = layer.weight[member], layer.bias[member]
        h = torch.nn.functional.leaky_relu(
            torch.nn.functional.conv2d(h, w, b, padding=layer.padding), net.negative_slope
        )
        if (i + 1) % net.pool_every == 0:
            h = torch.nn.functional.max_pool2d(h, 2)
    h = h.flatten(1)
    for i, layer in enumerate(net.layers[net.convs :]):
        h = torch.nn.functional.linear(h, layer.weight[member], layer.bias[member])
        if i < len(net.layers) - net.convs - 1:
            h = torch.nn.functional.leaky_relu(h, net.negative_slope)
    return h


@pytest.mark.parametrize("model", ["lenet5", "conv4"])
def test_a_conv_nets_members_compute_what_an_unstacked_network_computes(model):
    torch.manual_seed(0)
    cfg = compose([f"model={model}", "data=cifar10"])
    net = instantiate(cfg.model, population=3).double()
    x = torch.randn(3, 5, *cfg.data.shape, dtype=torch.double)
    logits = net(x)
    for member in range(3):
        expected = unstacked(net, member, x[member])
        torch.testing.assert_close(logits[member], expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    "variant",
    [
        ["prune=imp_random"],
        ["prune=imp_reinit"],
        ["prune.scope=global"],
        ["prune.rewind=epoch_k", "prune.rewind_epoch=1"],
        ["prune.layer_rates=[0.1,0.1,0.2,0.2,0.1]"],
        ["init.layer_scales=[1,2,1,1,1]"],
    ],
)
def test_a_conv_network_runs_every_pruning_variant(tmp_path, mnist_raw, variant):
    cfg = compose([*TINY, "model=lenet5", "epochs=2", "prune.every_n_epochs=1", *variant])
    info = train(cfg, tmp_path)
    assert info["status"] == "done" and len(load_masks(tmp_path)) == 2
    weights = [6 * 25, 16 * 150, 400 * 120, 120 * 84, 84 * 10]
    kept = sum(w * r for w, r in zip(weights, info["rounds"][1]["layer_remaining"], strict=True))
    rates = [0.1, 0.1, 0.2, 0.2, 0.1] if "layer_rates" in variant[0] else [0.2] * 5
    if "global" not in variant[0]:
        assert info["rounds"][1]["layer_remaining"] == pytest.approx(
            [1 - r for r in rates], abs=4e-3
        )
    assert kept / sum(weights) == pytest.approx(info["rounds"][1]["remaining"], abs=1e-6)
