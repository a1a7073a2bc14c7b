"""The study's init methods: Xavier (Glorot & Bengio 2010) and Kaiming (He et al. 2015)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from lottery_init.models import stacked_layers
from lottery_init.seeding import generator

SCHEMES = ("xavier", "kaiming")
DISTRIBUTIONS = ("uniform", "normal")


@dataclass(frozen=True)
class InitMethod:
    """One init method as stated in a `conf/init/*.yaml` file."""

    name: str
    scheme: str
    distribution: str
    scale: float = 1.0
    gain: float = 1.0
    # A multiplier per layer on top of the formula (None: every layer 1); see `spread`.
    layer_scales: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.layer_scales is not None:
            # Configs give lists; a tuple keeps the method hashable and immutable.
            object.__setattr__(self, "layer_scales", tuple(self.layer_scales))
            if not all(s > 0 for s in self.layer_scales):
                raise ValueError(
                    f"init.layer_scales must all be positive, got {list(self.layer_scales)}."
                )
        if self.scheme not in SCHEMES:
            raise ValueError(f"init.scheme must be one of {SCHEMES}, got {self.scheme!r}.")
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(
                f"init.distribution must be one of {DISTRIBUTIONS}, got {self.distribution!r}."
            )
        if not (self.scale > 0 and self.gain > 0):
            raise ValueError(f"init.scale and init.gain must be positive, got {self}.")

    def std(self, fan_in: int, fan_out: int, layer: int | None = None) -> float:
        """Standard deviation of one layer's θ₀: the formula's, times `layer_scales[layer]` when
        the method has layer scales (then `layer` is required)."""
        fan = fan_in + fan_out if self.scheme == "xavier" else fan_in
        # Xavier's variance is 2 / (fan_in + fan_out); Kaiming's (fan_in mode, gain 1), 1 / fan_in.
        variance = (2.0 if self.scheme == "xavier" else 1.0) / fan
        std = self.gain * self.scale * math.sqrt(variance)
        if self.layer_scales is None:
            return std
        if layer is None:
            raise ValueError(f"{self.name} has layer scales: name the layer.")
        return self.layer_scales[layer] * std

    def spread(self, fan_in: int, fan_out: int, layer: int | None = None) -> float:
        """Bound a of U(-a, a) or standard deviation s of N(0, s²) for one layer (see `std`)."""
        std = self.std(fan_in, fan_out, layer)
        # A uniform U(-a, a) has variance a² / 3, so its bound is sqrt(3) standard deviations.
        return std * math.sqrt(3.0) if self.distribution == "uniform" else std


@torch.no_grad()
def initialize_member(
    model: nn.Module, member: int, method: InitMethod, seed: int, stream: str = "init"
) -> None:
    """Draw member `member`'s θ₀ from `method` with a generator seeded by `seed` alone; biases 0.

    Another `stream` gives an independent draw from the same seed (used by `reinitialize`)."""
    gen = generator(seed, stream)
    for index, layer in enumerate(stacked_layers(model)):
        spread = method.spread(*layer.fans, index)
        # Drawing on the CPU makes θ₀ the same whatever device trains the member.
        sample = torch.empty(layer.weight.shape[1:])
        if method.distribution == "uniform":
            sample.uniform_(-spread, spread, generator=gen)
        else:
            sample.normal_(0.0, spread, generator=gen)
        layer.weight[member].copy_(sample)
        layer.bias[member].zero_()


def reinitialize(
    model: nn.Module, methods: Sequence[InitMethod], seeds: Sequence[int], round_: int
) -> None:
    """Draw every member afresh from its own init method, from a stream of its seed and the
    round: the random-reinitialization control of Frankle & Carbin (2019)."""
    for member, (method, seed) in enumerate(zip(methods, seeds, strict=True)):
        initialize_member(model, member, method, seed, stream=f"reinit/{round_}")
