"""Mask maths for a stacked population: masks from scores, shuffles, what remains, packed bits
(pure functions)."""

import numpy as np
import torch
from torch import nn

from lottery_init.models import stacked_layers


def prune_smallest(scores: torch.Tensor, mask: torch.Tensor, rate: float) -> torch.Tensor:
    """New mask `[P, N]`: per member, drop the round(rate × survivors) lowest-scoring survivors."""
    survivors = mask.sum(dim=1, dtype=torch.float64)
    return keep_highest(scores, mask, survivors.long() - torch.round(rate * survivors).long())


def keep_highest(scores: torch.Tensor, mask: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """New mask `[P, N]`: per member p, its `keep[p]` highest-scoring survivors (all of them
    where fewer survive); ties go to the later entry."""
    keep = torch.minimum(keep, mask.sum(dim=1))
    # Pruned entries rank first, so the cut sits after them and the newly pruned ones.
    cut = mask.shape[1] - keep
    ranked = torch.where(mask, scores, torch.full_like(scores, -torch.inf))
    order = torch.argsort(ranked, dim=1, stable=True)
    kept = torch.arange(mask.shape[1], device=mask.device).expand_as(mask) >= cut.unsqueeze(1)
    return torch.empty_like(mask).scatter_(1, order, kept)


def keep_fraction(
    scores: list[torch.Tensor], masks: list[torch.Tensor], fraction: float, scope: str
) -> list[torch.Tensor]:
    """Masks that keep each member's round(fraction × N) highest-scoring survivors, N the
    weights of each layer (`layer` scope) or of all layers together (`global`)."""
    flat_s = [s.flatten(1) for s in scores]
    flat_m = [m.flatten(1) for m in masks]

    def count(n: int, like: torch.Tensor) -> torch.Tensor:
        return torch.full((like.shape[0],), round(fraction * n), device=like.device)

    if scope == "layer":
        new = [
            keep_highest(s, m, count(s.shape[1], s)) for s, m in zip(flat_s, flat_m, strict=True)
        ]
    else:
        joint_s, joint_m = torch.cat(flat_s, dim=1), torch.cat(flat_m, dim=1)
        joint = keep_highest(joint_s, joint_m, count(joint_s.shape[1], joint_s))
        new = list(joint.split([s.shape[1] for s in flat_s], dim=1))
    return [n.view_as(m) for n, m in zip(new, masks, strict=True)]


def shuffle_within_layers(
    masks: list[torch.Tensor], gens: list[torch.Generator]
) -> list[torch.Tensor]:
    """Each member's mask of each layer with its entries in a random order from the member's
    generator: the same per-layer counts at random places (the shuffling control of Frankle et
    al. 2021, "Pruning neural networks at initialization: why are we missing the mark?")."""
    shuffled = []
    for mask in masks:
        flat = mask.flatten(1)
        orders = torch.stack([torch.randperm(flat.shape[1], generator=g) for g in gens])
        shuffled.append(flat.gather(1, orders.to(flat.device)).view_as(mask))
    return shuffled


SCOPES = ("layer", "global")


def prune_masks(
    scores: list[torch.Tensor], masks: list[torch.Tensor], rates: list[float], scope: str = "layer"
) -> list[torch.Tensor]:
    """Prune `rates[l]` of each member's surviving weights of layer l, lowest scores first; with
    `global` scope all layers of a member are ranked together at their one common rate
    (`config.validate` checks `scope`, and that per-layer rates come with `layer` scope)."""
    flat_s = [s.flatten(1) for s in scores]
    flat_m = [m.flatten(1) for m in masks]
    if scope == "layer":
        new = [prune_smallest(*sm, r) for *sm, r in zip(flat_s, flat_m, rates, strict=True)]
    else:
        joint = prune_smallest(torch.cat(flat_s, dim=1), torch.cat(flat_m, dim=1), rates[0])
        new = list(joint.split([s.shape[1] for s in flat_s], dim=1))
    return [n.view_as(m) for n, m in zip(new, masks, strict=True)]


def remaining(masks: list[torch.Tensor]) -> torch.Tensor:
    """Fraction of weights still unpruned, per member `[P]`."""
    kept = sum(m.flatten(1).sum(dim=1, dtype=torch.float64) for m in masks)
    return kept / sum(m[0].numel() for m in masks)


def layer_remaining(masks: list[torch.Tensor]) -> torch.Tensor:
    """Fraction of weights still unpruned per member and layer `[P, L]`."""
    return torch.stack([m.flatten(1).double().mean(dim=1) for m in masks], dim=1)


def prunable(module: nn.Module) -> list[nn.Parameter]:
    """The weights of a stacked model's layers, in order (biases are never pruned)."""
    return [layer.weight for layer in stacked_layers(module)]


# Bit weights of one packed byte, most significant first (the order of numpy's `packbits`).
_BITS = torch.tensor([128, 64, 32, 16, 8, 4, 2, 1], dtype=torch.uint8)


def pack_mask(mask: torch.Tensor | np.ndarray) -> torch.Tensor:
    """A boolean mask as uint8 bytes, 8 entries each, row-major (its shape is kept elsewhere),
    in numpy's `packbits` order: numpy packs in microseconds what torch arithmetic takes
    milliseconds for."""
    array = mask.numpy(force=True) if isinstance(mask, torch.Tensor) else np.asarray(mask)
    return torch.from_numpy(np.packbits(array.reshape(-1)))


def unpack_mask(packed: torch.Tensor, shape: torch.Size | tuple[int, ...]) -> torch.Tensor:
    """The boolean mask of `shape` that `pack_mask` turned into `packed`."""
    bits = packed.unsqueeze(1).bitwise_and(_BITS).ne(0).reshape(-1)
    return bits[: torch.Size(shape).numel()].view(shape)
