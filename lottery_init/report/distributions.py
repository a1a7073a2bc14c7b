"""The init methods' weight distributions per layer: densities from the formulas, checked
against weights drawn by the project's own initializer (the study's Figure 1)."""

import math

import numpy as np
from hydra.utils import instantiate
from matplotlib.figure import Figure
from torch import nn

from lottery_init.models import stacked_layers
from lottery_init.models.initializers import InitMethod, initialize_member
from lottery_init.pruning.masks import prunable
from lottery_init.report.figures import panels
from lottery_init.runs.compat import MODEL_BEFORE


def run_model(config: dict) -> nn.Module:
    """A run's model, rebuilt from its recorded config as a population of one."""
    return instantiate(MODEL_BEFORE | config.get("model", {}), population=1)


def layer_shapes(config: dict) -> list[tuple[int, int]]:
    """(fan_in, fan_out) of each prunable layer of a run's model."""
    return [layer.fans for layer in stacked_layers(run_model(config))]


def sampled_weights(method: InitMethod, config: dict, seed: int = 0) -> list[np.ndarray]:
    """One member's θ₀ weights per layer, of the run's model, drawn by the project's own
    initializer (the draws a run of `seed` makes)."""
    model = run_model(config)
    initialize_member(model, 0, method, seed)
    return [w[0].detach().flatten().numpy() for w in prunable(model)]


def density(method: InitMethod, fan_in: int, fan_out: int, x: np.ndarray) -> np.ndarray:
    """The init method's probability density at `x` for one layer, from its formula."""
    spread = method.spread(fan_in, fan_out)
    if method.distribution == "uniform":
        return np.where(np.abs(x) <= spread, 1 / (2 * spread), 0.0)
    return np.exp(-0.5 * (x / spread) ** 2) / (spread * math.sqrt(2 * math.pi))


def init_distributions(methods: list[InitMethod], config: dict) -> Figure:
    """Each method's density in each layer of a run's model (`config`) from its formula (lines)
    over sampled weights (steps); one row per group of methods, as in `panels`."""
    shapes = layer_shapes(config)
    samples = {method.name: sampled_weights(method, config) for method in methods}
    by_name = {method.name: method for method in methods}
    groups = panels({method.name: method.scale for method in methods})
    fig = Figure(figsize=(5 * len(shapes), 4 * len(groups)), layout="constrained")
    rows = fig.subplots(len(groups), len(shapes), squeeze=False)
    for axes, (title, names) in zip(rows, groups, strict=True):
        for layer, (ax, (fan_in, fan_out)) in enumerate(zip(axes, shapes, strict=True)):
            group = [by_name[name] for name in names]
            width = max(3.5 * m.spread(fan_in, fan_out) for m in group)
            x = np.linspace(-width, width, 801)
            for method in group:
                (line,) = ax.plot(x, density(method, fan_in, fan_out, x), label=method.name)
                sample = samples[method.name][layer]
                style = {"histtype": "step", "color": line.get_color(), "alpha": 0.35}
                ax.hist(sample, bins=80, range=(-width, width), density=True, **style)
            ax.set(title=f"layer {layer + 1}: {fan_in} → {fan_out}", xlabel="weight")
        axes[0].set_ylabel(f"density ({title})")
        axes[0].legend(fontsize="x-small")
    return fig


def init_check(methods: list[InitMethod], config: dict) -> list[str]:
    """Markdown rows: each method's formula standard deviation against its sampled weights', in
    each layer of a run's model (`config`)."""
    shapes = layer_shapes(config)
    lines = ["| init | layer | formula std | sampled std | difference |", "|---|---|---|---|---|"]
    for method in methods:
        samples = sampled_weights(method, config)
        for layer, ((fan_in, fan_out), sample) in enumerate(zip(shapes, samples, strict=True)):
            std = method.std(fan_in, fan_out)
            found = float(sample.std())
            lines.append(
                f"| {method.name} | {layer + 1} | {std:.5f} | {found:.5f} "
                f"| {found / std - 1:+.2%} |"
            )
    return lines
