"""Convolutional networks stacked over a population: LeNet-5 (LeCun et al. 1998) and Frankle &
Carbin's Conv-2/4/6 (2019)."""

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional as F

from lottery_init.models.layers import StackedConv2d, StackedLinear


def conv_output(
    input_shape: Sequence[int],
    convs: Sequence[int],
    kernel_size: int,
    padding: Sequence[int],
    pool_every: int,
) -> int:
    """Features the convolutions and pools leave per image (channels x height x width)."""
    _, height, width = input_shape
    for i, pad in enumerate(padding):
        height, width = (size + 2 * pad - kernel_size + 1 for size in (height, width))
        if (i + 1) % pool_every == 0:
            height, width = height // 2, width // 2
    if height < 1 or width < 1:
        raise ValueError(f"the convolutions and pools leave no pixels of a {input_shape} image.")
    return convs[-1] * height * width


def layout(device: torch.device) -> torch.memory_format:
    """The activations' memory layout for the device: channels last on the CPU, where oneDNN's
    grouped convolutions run about twice as fast in it (benchmarks/population.py --model
    lenet5); PyTorch's default elsewhere, until a GPU measurement says otherwise."""
    return torch.channels_last if device.type == "cpu" else torch.contiguous_format


class ConvNet(nn.Module):
    """Convolutions, each followed by leaky ReLU and, after every `pool_every` of them, a 2x2
    max pool; then fully connected layers, stacked over a population of P members."""

    def __init__(
        self,
        population: int,
        input_shape: Sequence[int],
        num_classes: int,
        convs: Sequence[int],
        hidden: Sequence[int],
        kernel_size: int = 3,
        padding: Sequence[int] | None = None,
        pool_every: int = 1,
        negative_slope: float = 0.05,
    ) -> None:
        super().__init__()
        padding = list(padding) if padding is not None else [kernel_size // 2] * len(convs)
        if not convs or len(padding) != len(convs) or len(convs) % pool_every:
            raise ValueError(
                f"model.convs must be non-empty, model.padding hold one value per convolution "
                f"and model.pool_every divide their number; got {list(convs)}, {padding}, "
                f"{pool_every}."
            )
        self.population, self.negative_slope, self.pool_every = (
            population,
            negative_slope,
            pool_every,
        )
        self.convs = len(convs)
        channels = [input_shape[0], *convs]
        features = conv_output(input_shape, convs, kernel_size, padding, pool_every)
        self.layers = nn.ModuleList(
            [
                StackedConv2d(population, c_in, c_out, kernel_size, pad)
                for (c_in, c_out), pad in zip(pairwise(channels), padding, strict=True)
            ]
            + [
                StackedLinear(population, a, b)
                for a, b in pairwise([features, *hidden, num_classes])
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits `[P, B, classes]` for images `[P, B, C, H, W]`."""
        population, batch = x.shape[:2]
        # Members side by side as channel groups, so each layer is one grouped convolution.
        h = x.transpose(0, 1).flatten(1, 2).contiguous(memory_format=layout(x.device))
        for i, conv in enumerate(self.layers[: self.convs]):
            h = F.leaky_relu(conv(h), self.negative_slope)
            if (i + 1) % self.pool_every == 0:
                h = F.max_pool2d(h, 2)
        # Features-first for the fully connected layers, as in LeNet-300-100: `[P, F, B]`.
        h = h.reshape(batch, population, -1).permute(1, 2, 0)
        for layer in self.layers[self.convs : -1]:
            h = F.leaky_relu(layer(h), self.negative_slope)
        return self.layers[-1](h).transpose(1, 2)
