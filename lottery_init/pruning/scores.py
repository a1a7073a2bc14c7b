"""IMP's scores of each weight, one table of methods by the name `prune.method` gives (pure
functions); the lowest-scoring survivors are pruned."""

from collections.abc import Callable

import torch

# An IMP score of each weight from its value now, its value at θ₀ and each member's generator.
Scorer = Callable[
    [list[torch.Tensor], list[torch.Tensor], list[torch.Generator]], list[torch.Tensor]
]


def magnitude_scores(
    weights: list[torch.Tensor], initial: list[torch.Tensor], gens: list[torch.Generator]
) -> list[torch.Tensor]:
    """|w| (Frankle & Carbin 2019, "The lottery ticket hypothesis")."""
    return [w.detach().abs() for w in weights]


def random_scores(
    weights: list[torch.Tensor], initial: list[torch.Tensor], gens: list[torch.Generator]
) -> list[torch.Tensor]:
    """Uniform noise from each member's generator: the random-pruning control (same per-layer
    counts, a mask independent of the weights)."""
    return [
        torch.stack([torch.rand(w.shape[1:], generator=g) for g in gens]).to(w.device)
        for w in weights
    ]


def magnitude_increase_scores(
    weights: list[torch.Tensor], initial: list[torch.Tensor], gens: list[torch.Generator]
) -> list[torch.Tensor]:
    """|w| - |w₀|, so the weights whose magnitude grew least since θ₀ go (Zhou et al. 2019,
    "Deconstructing lottery tickets")."""
    return [w.detach().abs() - w0.abs() for w, w0 in zip(weights, initial, strict=True)]


# IMP's scoring methods by the name `prune.method` gives.
SCORERS: dict[str, Scorer] = {
    "magnitude": magnitude_scores,
    "random": random_scores,
    "magnitude_increase": magnitude_increase_scores,
}
METHODS = tuple(SCORERS)


def prune_scores(
    method: str,
    weights: list[torch.Tensor],
    initial: list[torch.Tensor],
    gens: list[torch.Generator],
) -> list[torch.Tensor]:
    """Per-layer scores `[P, out, in]` by `method` (one of `SCORERS`); the lowest-scoring
    survivors are pruned. An unknown method is refused, never scored as another."""
    if method not in SCORERS:
        raise ValueError(f"no pruning method named {method!r}: {METHODS}")
    return SCORERS[method](weights, initial, gens)
