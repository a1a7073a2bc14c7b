"""Population batches: shapes, per-member orders, reproducibility."""

import torch

from lottery_init.data import PopulationBatches, normalize
from lottery_init.seeding import generator


def batches(seeds: list[int], n: int = 50, batch: int = 7, chunk: int = 3) -> list:
    x = torch.arange(n, dtype=torch.float32).view(n, 1).expand(n, 4).contiguous()
    gens = [generator(s, "data") for s in seeds]
    return [b for c in PopulationBatches(x, torch.arange(n), batch, gens, chunk) for b in c]


def test_batches_are_population_by_batch_by_features():
    first_x, first_y = batches([0, 1, 2])[0]
    assert first_x.shape == (3, 7, 4) and first_y.shape == (3, 7)


def test_each_member_sees_every_example_once_per_epoch():
    ys = torch.cat([y for _, y in batches([0, 1])], dim=1)
    for member in ys:
        assert sorted(member.tolist()) == list(range(50))


def test_members_have_their_own_orders_and_a_seed_repeats_its_order():
    first = torch.cat([y for _, y in batches([0, 1])], dim=1)
    again = torch.cat([y for _, y in batches([1])], dim=1)
    assert not torch.equal(first[0], first[1])
    assert torch.equal(first[1], again[0])


def test_every_epoch_draws_a_new_order():
    x, y = torch.zeros(20, 1), torch.arange(20)
    loader = PopulationBatches(x, y, 20, [generator(0, "data")], chunk=1)
    [[(_, first)]], [[(_, second)]] = list(loader), list(loader)
    assert not torch.equal(first, second)


def test_chunks_cover_the_epoch():
    x, y = torch.zeros(50, 1), torch.arange(50)
    loader = PopulationBatches(x, y, 7, [generator(0, "data")], chunk=3)
    assert len(loader) == 3 and [len(c) for c in loader] == [3, 3, 2]


def test_normalize_uses_the_mnist_mean_and_std():
    images = torch.tensor([[[0, 255]]], dtype=torch.uint8)
    expected = torch.tensor([[(0 - 0.1307) / 0.3081, (1 - 0.1307) / 0.3081]])
    torch.testing.assert_close(normalize(images), expected)
