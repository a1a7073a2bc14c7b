"""Pruning at initialization, one table of methods by the name `prune.method` gives: each
method's masks of θ₀ (from `saliency`'s scores) and whether it scores on training images."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from lottery_init.data.batches import Batch
from lottery_init.pruning.masks import keep_fraction, prunable
from lottery_init.pruning.saliency import grasp_scores, snip_scores, synflow_masks


@dataclass(frozen=True)
class Scoring:
    """What a method scores θ₀ with besides the weights: SNIP and GraSP a `batch` of images
    (GraSP's logits divided by `temperature`), SynFlow its `iterations` and `input_shape`."""

    batch: Batch | None = None
    temperature: float = 1.0
    iterations: int = 1
    input_shape: Sequence[int] = ()


# The masks a method keeps: of a model's θ₀, the fraction `remaining`, per layer or globally.
Masks = Callable[[nn.Module, float, str, Scoring], list[torch.Tensor]]


@dataclass(frozen=True)
class AtInit:
    """A method of pruning at initialization: its masks, and whether it scores on images."""

    masks: Masks
    needs_images: bool


def scored_once(scores: Callable[[nn.Module, Scoring], list[torch.Tensor]]) -> Masks:
    """The masks that keep the highest of one scoring of θ₀."""

    def masks(
        model: nn.Module, remaining: float, scope: str, scoring: Scoring
    ) -> list[torch.Tensor]:
        full = [torch.ones_like(w, dtype=torch.bool) for w in prunable(model)]
        return keep_fraction(scores(model, scoring), full, remaining, scope)

    return masks


def synflow_masks_of(
    model: nn.Module, remaining: float, scope: str, scoring: Scoring
) -> list[torch.Tensor]:
    """SynFlow's iterative masks with the scoring's iterations and input shape."""
    return synflow_masks(model, scoring.input_shape, remaining, scope, scoring.iterations)


# Every method of pruning at initialization, by the name `prune.method` gives.
METHODS_AT_INIT: dict[str, AtInit] = {
    "magnitude_at_init": AtInit(
        scored_once(lambda model, _: [w.detach().abs() for w in prunable(model)]),
        needs_images=False,
    ),
    "snip": AtInit(scored_once(lambda model, s: snip_scores(model, s.batch)), needs_images=True),
    "grasp": AtInit(
        scored_once(lambda model, s: grasp_scores(model, s.batch, s.temperature)),
        needs_images=True,
    ),
    "synflow": AtInit(synflow_masks_of, needs_images=False),
}


def masks_at_init(
    method: str,
    model: nn.Module,
    remaining: float,
    scope: str,
    batch: Batch | None = None,
    temperature: float = 1.0,
    iterations: int = 1,
    input_shape: Sequence[int] = (),
) -> list[torch.Tensor]:
    """The masks `method` keeps of the model's current weights (θ₀): `remaining` of them, per
    layer or globally (`scope`). SNIP and GraSP score on `batch`; SynFlow takes `iterations`
    and the images' `input_shape`; `magnitude_at_init` keeps the largest |θ₀|. An unknown
    method is refused."""
    scoring = Scoring(batch, temperature, iterations, input_shape)
    return method_at_init(method).masks(model, remaining, scope, scoring)


def method_at_init(method: str) -> AtInit:
    """The method of pruning at initialization named `method`; an unknown name is refused."""
    if method not in METHODS_AT_INIT:
        raise ValueError(f"no pruning at initialization named {method!r}: {tuple(METHODS_AT_INIT)}")
    return METHODS_AT_INIT[method]
