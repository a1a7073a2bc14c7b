"""Stacked layers, the contract every stacked model keeps: P independent layers, one per member,
each with its `weight` `[P, *shape]`, `bias` `[P, out]` and `fans` (fan_in, fan_out)."""

import math
from collections.abc import Sequence

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

    @property
    def fans(self) -> tuple[int, int]:
        """(fan_in, fan_out) of one member's layer."""
        return self.weight.shape[2], self.weight.shape[1]

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Map features-first activations `[P, in, B]` to `[P, out, B]`: W h + b, batched."""
        return torch.baddbmm(self.bias.unsqueeze(2), self.weight, h)


class StackedConv2d(nn.Module):
    """P independent 2-d convolutions as one grouped convolution: weight `[P, out, in, k, k]`,
    bias `[P, out]`; activations `[B, P * channels, H, W]`, member p's in channel group p."""

    def __init__(
        self, population: int, in_channels: int, out_channels: int, kernel_size: int, padding: int
    ) -> None:
        super().__init__()
        shape = (population, out_channels, in_channels, kernel_size, kernel_size)
        self.weight = nn.Parameter(torch.empty(shape))
        self.bias = nn.Parameter(torch.zeros(population, out_channels))
        self.padding = padding
        bound = 1 / math.sqrt(in_channels * kernel_size**2)
        nn.init.uniform_(self.weight, -bound, bound)

    @property
    def fans(self) -> tuple[int, int]:
        """(fan_in, fan_out) of one member's layer in PyTorch's convention: channels times the
        kernel's area (in·k·k, out·k·k)."""
        _, out_channels, in_channels, height, width = self.weight.shape
        return in_channels * height * width, out_channels * height * width

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """`[B, P * in, H, W]` to `[B, P * out, H', W']`, each member's channels on their own."""
        weight, bias = self.weight.flatten(0, 1), self.bias.flatten()
        return F.conv2d(h, weight, bias, padding=self.padding, groups=self.weight.shape[0])


STACKED = (StackedLinear, StackedConv2d)


@torch.no_grad()
def activations_per_image(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Numbers the stacked layers output for one image of one member, counted by running one
    image through the model (what evaluation holds per image, layer by layer)."""
    sizes: list[int] = []
    hooks = [
        layer.register_forward_hook(lambda _, __, out: sizes.append(out.numel()))
        for layer in stacked_layers(model)
    ]
    try:
        model(torch.zeros(model.population, 1, *input_shape))
    finally:
        for hook in hooks:
            hook.remove()
    # Every layer's output holds the same numbers for each of the P members.
    return sum(sizes) // model.population


def stacked_layers(module: nn.Module) -> list[nn.Module]:
    """The stacked layers of a model (or of a module holding one), in the order they were built,
    which is the order they compute: the layers that hold prunable weights."""
    return [m for m in module.modules() if isinstance(m, STACKED)]
