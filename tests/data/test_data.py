"""Population batches: shapes, per-member orders drawn ahead, reproducibility; evaluation slices."""

import torch
from helpers import image_module

from lottery_init.config.compose import compose
from lottery_init.data.batches import PopulationBatches
from lottery_init.data.datamodule import EVAL_NUMBERS
from lottery_init.data.dataset import dataset_of, normalize
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
    images = torch.tensor([[[[0, 255]]]], dtype=torch.uint8)
    expected = torch.tensor([[[[(0 - 0.1307) / 0.3081, (1 - 0.1307) / 0.3081]]]])
    torch.testing.assert_close(normalize(images, dataset_of(compose().data)), expected)


def test_orders_drawn_ahead_are_the_orders_the_generators_draw_one_epoch_at_a_time():
    x, y = torch.zeros(30, 1), torch.arange(30)
    gens, alone = [generator(s, "data") for s in (0, 1)], [generator(s, "data") for s in (0, 1)]
    loader = PopulationBatches(x, y, 30, gens, chunk=1, ahead=True)
    for _ in range(3):
        [[(_, drawn)]] = list(loader)
        assert torch.equal(drawn, torch.stack([torch.randperm(30, generator=g) for g in alone]))
        # Between epochs (where checkpoints are written) the generators are where they would
        # be without drawing ahead, so a resumed run draws the same next order.
        assert all(
            torch.equal(g.get_state(), a.get_state()) for g, a in zip(gens, alone, strict=True)
        )


def test_orders_drawn_ahead_are_dropped_when_the_generators_are_restored():
    x, y = torch.zeros(30, 1), torch.arange(30)
    gen = generator(0, "data")
    start = gen.get_state()
    loader = PopulationBatches(x, y, 30, [gen], chunk=1, ahead=True)
    [[(_, first)]] = list(loader)
    assert loader._ahead is not None  # the next epoch's orders are being drawn
    gen.set_state(start)  # as a checkpoint's state, loaded after the draw ahead began
    [[(_, again)]] = list(loader)
    assert torch.equal(first, again)


def test_a_large_population_evaluates_the_test_set_in_slices():
    module = image_module(list(range(200)), ".")
    module.test_x, module.test_y = torch.zeros(10_000, 4), torch.arange(10_000)
    [loader] = module.val_dataloader()
    blocks = [y for _, y in loader]
    assert all(y.numel() * 410 <= EVAL_NUMBERS for y in blocks)
    assert torch.equal(torch.cat([y[0] for y in blocks]), module.test_y)
    module.seeds = list(range(88))  # the study's grid: the whole test set in one block
    assert len(module.val_dataloader()[0]) == 1


def test_a_model_with_more_activations_per_image_evaluates_in_smaller_slices():
    module = image_module([0], ".")
    module.test_x, module.test_y = torch.zeros(10_000, 4), torch.arange(10_000)
    module.activations = 131_594  # Conv-2 on CIFAR-10's 3x32x32 images
    blocks = [y for _, y in module.val_dataloader()[0]]
    assert len(blocks) == 4 and max(y.numel() for y in blocks) * 131_594 <= EVAL_NUMBERS
