"""LeNet-300-100 as a stack of P independent networks trained side by side."""

import math
from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional as F

from lottery_init.models.layers import StackedLinear


class LeNet(nn.Module):
    """LeNet-300-100 (LeCun et al. 1998) with leaky ReLU, stacked over a population of P members."""

    def __init__(
        self,
        population: int,
        input_shape: Sequence[int] = (1, 28, 28),
        hidden: Sequence[int] = (300, 100),
        num_classes: int = 10,
        negative_slope: float = 0.05,
    ) -> None:
        super().__init__()
        sizes = [math.prod(input_shape), *hidden, num_classes]
        self.population = population
        self.negative_slope = negative_slope
        self.layers = nn.ModuleList(
            StackedLinear(population, n_in, n_out) for n_in, n_out in pairwise(sizes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits `[P, B, classes]` for images `[P, B, *input_shape]` (or already flat)."""
        # Features-first activations give each weight gradient the weight's own layout, which
        # spares autograd a transposing copy per layer and step (about 15% of a CPU step).
        h = x.flatten(2).transpose(1, 2)
        for layer in self.layers[:-1]:
            h = F.leaky_relu(layer(h), self.negative_slope)
        return self.layers[-1](h).transpose(1, 2)
