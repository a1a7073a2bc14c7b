"""Pruning maths on small hand-made tensors."""

import numpy as np
import pytest
import torch

from lottery_init.pruning.masks import (
    layer_remaining,
    pack_mask,
    prune_masks,
    prune_smallest,
    remaining,
    unpack_mask,
)
from lottery_init.pruning.scores import prune_scores


def full(*shape: int) -> torch.Tensor:
    return torch.ones(*shape, dtype=torch.bool)


def by_magnitude(
    weights: list[torch.Tensor], masks: list[torch.Tensor], rate: float, scope: str = "layer"
) -> list[torch.Tensor]:
    """The masks after pruning `rate` of the survivors by magnitude, as a round of IMP does."""
    scores = prune_scores("magnitude", weights, weights, [])
    return prune_masks(scores, masks, [rate] * len(weights), scope)


def test_prunes_round_rate_times_survivors_per_layer():
    weights = [torch.randn(1, 4, 5), torch.randn(1, 3, 3)]
    masks = by_magnitude(weights, [full(1, 4, 5), full(1, 3, 3)], rate=0.2)
    # round(0.2 * 20) = 4 and round(0.2 * 9) = round(1.8) = 2 weights go.
    assert [int((~m).sum()) for m in masks] == [4, 2]


def test_smallest_magnitudes_go_first_whatever_their_sign():
    w = torch.tensor([[[-0.1, 0.5, -3.0, 0.05, 2.0]]])
    (mask,) = by_magnitude([w], [full(1, 1, 5)], rate=0.4)
    assert mask.tolist() == [[[False, True, True, False, True]]]


def test_masks_only_shrink_and_pruned_weights_never_return():
    w = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]])
    mask = prune_smallest(w, full(1, 10), rate=0.2)
    # Even if a pruned weight were large now, it stays pruned; the next round cuts survivors.
    w_later = w.flip(1)
    later = prune_smallest(w_later, mask, rate=0.25)
    assert not (later & ~mask).any()
    assert int(later.sum()) == 6
    assert later.tolist() == [[False, False, True, True, True, True, True, True, False, False]]


def test_each_member_is_ranked_on_its_own():
    w = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 4.0, 3.0, 2.0, 1.0]])
    mask = prune_smallest(w, full(2, 5), rate=0.4)
    assert mask.tolist() == [[False, False, True, True, True], [True, True, True, False, False]]


def test_global_scope_ranks_across_layers():
    big, small = torch.full((1, 2, 5), 10.0), torch.arange(1.0, 11.0).view(1, 2, 5) / 100
    masks = by_magnitude([big, small], [full(1, 2, 5), full(1, 2, 5)], 0.2, scope="global")
    # 20% of 20 weights = 4, all from the layer of small weights, the smallest four.
    assert bool(masks[0].all())
    assert masks[1].flatten().tolist() == [False] * 4 + [True] * 6


def test_layer_scope_prunes_each_layer_even_when_another_is_smaller():
    big, small = torch.full((1, 2, 5), 10.0), torch.arange(1.0, 11.0).view(1, 2, 5) / 100
    masks = by_magnitude([big, small], [full(1, 2, 5), full(1, 2, 5)], 0.2, scope="layer")
    assert [int((~m).sum()) for m in masks] == [2, 2]


def test_remaining_after_r_rounds_is_0_8_to_the_r_for_lenet():
    gen = torch.Generator().manual_seed(0)
    shapes = [(1, 300, 784), (1, 100, 300), (1, 10, 100)]
    weights = [torch.randn(s, generator=gen) for s in shapes]
    masks = [full(*s) for s in shapes]
    for r in range(1, 20):
        masks = by_magnitude(weights, masks, rate=0.2)
        # Per-layer rounding of a 1,000-weight layer moves the total by well under 0.1%.
        assert float(remaining(masks)[0]) == pytest.approx(0.8**r, abs=1e-3)
        assert layer_remaining(masks).shape == (1, 3)


def test_packed_masks_take_one_bit_per_entry_and_unpack_to_the_same_mask():
    mask = torch.rand(3, 7, 11, generator=torch.Generator().manual_seed(0)) > 0.4
    packed = pack_mask(mask)
    assert packed.dtype == torch.uint8 and packed.numel() == -(-mask.numel() // 8)
    # numpy's bit order, so `np.unpackbits` reads the same bytes.
    assert np.array_equal(packed.numpy(), np.packbits(mask.numpy().reshape(-1)))
    assert torch.equal(unpack_mask(packed, mask.shape), mask)


def test_an_unknown_method_is_refused_rather_than_scored_as_random():
    weights = [torch.randn(1, 4, 3)]
    with pytest.raises(ValueError, match="'magnitud'"):
        prune_scores("magnitud", weights, weights, [torch.Generator().manual_seed(0)])
