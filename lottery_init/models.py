"""LeNet-300-100 as a stack of P independent networks trained side by side."""

import math
from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional as F


class StackedLinear(nn.Module):
    """P independent fully connected layers: weight `[P, out, in]`, bias `[P, out]`."""

    def __init__(self, population: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(population, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(population, out_features))
        # A usable default for tests; runs always overwrite it with the configured init.
        bound = 1 / math.sqrt(in_features)
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map `[P, B, in]` to `[P, B, out]` with one batched matrix product."""
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight.transpose(1, 2))


class LeNet(nn.Module):
    """LeNet-300-100 (LeCun et al. 1998) with leaky ReLU, stacked over a population of P members."""

    def __init__(
        self,
        population: int,
        in_features: int = 784,
        hidden: tuple[int, ...] | list[int] = (300, 100),
        num_classes: int = 10,
        negative_slope: float = 0.05,
    ) -> None:
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        self.population = population
        self.negative_slope = negative_slope
        self.layers = nn.ModuleList(
            StackedLinear(population, n_in, n_out) for n_in, n_out in pairwise(sizes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits `[P, B, classes]` for inputs `[P, B, in_features]`."""
        for layer in self.layers[:-1]:
            x = F.leaky_relu(layer(x), self.negative_slope)
        return self.layers[-1](x)
