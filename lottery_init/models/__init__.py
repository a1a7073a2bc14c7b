"""Stacked models: P independent networks, one per population member, trained side by side.
Every model exposes `population` and its prunable stacked layers (`layers.stacked_layers`)."""

from lottery_init.models.conv import ConvNet
from lottery_init.models.layers import StackedConv2d, StackedLinear, stacked_layers
from lottery_init.models.lenet import LeNet

__all__ = ["ConvNet", "LeNet", "StackedConv2d", "StackedLinear", "stacked_layers"]
