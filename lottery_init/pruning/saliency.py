"""Scores for pruning at initialization, for every member of a stacked model at once (pure
functions): SNIP, GraSP and SynFlow. Members never mix: each one's loss and output
depend on its own weights alone, so its gradients are those of the member trained alone."""

import copy
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from lottery_init.data.batches import Batch
from lottery_init.pruning.masks import keep_fraction, prunable


def member_losses(model: nn.Module, batch: Batch, temperature: float = 1.0) -> torch.Tensor:
    """The sum over members of each member's mean cross-entropy on its own images of `batch`
    `[P, B, ...]`, logits divided by `temperature`."""
    x, y = batch
    logits = model(x) / temperature
    return F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum") / y.shape[1]


def snip_scores(model: nn.Module, batch: Batch) -> list[torch.Tensor]:
    """|θ ⊙ ∂L/∂θ| per prunable weight, the loss's sensitivity to each weight's mask entry
    (Lee, Ajanthan, Torr 2019, "SNIP: single-shot network pruning based on connection
    sensitivity", eq. 6)."""
    weights = prunable(model)
    grads = torch.autograd.grad(member_losses(model, batch), weights)
    return [(w.detach() * g).abs() for w, g in zip(weights, grads, strict=True)]


def hessian_gradient(
    model: nn.Module, batch: Batch, temperature: float
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(g, Hg) for the prunable weights: the gradient of the loss at `temperature` and the
    Hessian's product with it, by double backpropagation (Pearlmutter 1994)."""
    weights = prunable(model)
    g = torch.autograd.grad(member_losses(model, batch, temperature), weights)
    grads = torch.autograd.grad(
        member_losses(model, batch, temperature), weights, create_graph=True
    )
    directional = sum((gi.detach() * di).sum() for gi, di in zip(g, grads, strict=True))
    return list(g), list(torch.autograd.grad(directional, weights))


def grasp_scores(model: nn.Module, batch: Batch, temperature: float) -> list[torch.Tensor]:
    """θ ⊙ Hg per prunable weight (Wang, Zhang, Grosse 2020, "Picking winning tickets before
    training by preserving gradient flow", eq. 8): GraSP prunes the highest −θ ⊙ Hg, so it
    keeps the highest θ ⊙ Hg, the weights whose removal would shrink the gradient's norm most."""
    _, hg = hessian_gradient(model, batch, temperature)
    return [w.detach() * h for w, h in zip(prunable(model), hg, strict=True)]


def synflow_scores(model: nn.Module, input_shape: Sequence[int]) -> list[torch.Tensor]:
    """|θ ⊙ ∂R/∂θ| per prunable weight of `model`, R the summed output of each member for an
    all-ones input (Tanaka, Kunin, Yamins, Ganguli 2020, "Pruning neural networks without any
    data by iteratively conserving synaptic flow", eq. 3); `model` holds |θ| already."""
    weights = prunable(model)
    first = weights[0]
    ones = torch.ones(first.shape[0], 1, *input_shape, dtype=first.dtype, device=first.device)
    grads = torch.autograd.grad(model(ones).sum(), weights)
    return [(w.detach() * g).abs() for w, g in zip(weights, grads, strict=True)]


def linearized(model: nn.Module) -> nn.Module:
    """SynFlow's network: a float64 copy of `model` with |θ| in place of θ, so that no
    activation is negative and no sum underflows (Tanaka et al. 2020, Algorithm 1)."""
    linear = copy.deepcopy(model).double()
    with torch.no_grad():
        for param in linear.parameters():
            param.abs_()
    return linear


def masked_scores(
    linear: nn.Module,
    start: list[torch.Tensor],
    masks: list[torch.Tensor],
    input_shape: Sequence[int],
) -> list[torch.Tensor]:
    """SynFlow's scores of the `linearized` network with its prunable weights at `start` (|θ₀|)
    times `masks`: the masked network each iteration scores."""
    with torch.no_grad():
        for w, w0, m in zip(prunable(linear), start, masks, strict=True):
            w.copy_(w0 * m)
    return synflow_scores(linear, input_shape)


def synflow_masks(
    model: nn.Module, input_shape: Sequence[int], remaining: float, scope: str, iterations: int
) -> list[torch.Tensor]:
    """SynFlow's masks: `iterations` rounds of scoring the masked `linearized` network and
    keeping remaining^(k / iterations) of the weights in round k, the paper's exponential
    schedule (Tanaka et al. 2020, Algorithm 1)."""
    linear = linearized(model)
    start = [w.detach().clone() for w in prunable(linear)]
    masks = [torch.ones_like(w, dtype=torch.bool) for w in start]
    for k in range(1, iterations + 1):
        scores = masked_scores(linear, start, masks, input_shape)
        masks = keep_fraction(scores, masks, remaining ** (k / iterations), scope)
    return masks
