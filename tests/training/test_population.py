"""A member of a population trains exactly as it would alone."""

import pytest
import torch
from helpers import TINY, TinyData, tiny_trainer

from lottery_init.config.compose import compose
from lottery_init.models import LeNet
from lottery_init.models.initializers import InitMethod, initialize_member
from lottery_init.pruning import IterativeMagnitudePruning
from lottery_init.runs.results import read_metrics
from lottery_init.training.lightning_module import LotteryModule
from lottery_init.training.population import train_population

METHODS = [
    InitMethod("a", "xavier", "normal"),
    InitMethod("b", "kaiming", "uniform"),
    InitMethod("c", "xavier", "uniform", scale=0.5),
]


def trained(members: list[tuple[InitMethod, int]]) -> LeNet:
    model = LeNet(len(members), input_shape=[20], hidden=[12, 8], num_classes=3)
    for i, (method, seed) in enumerate(members):
        initialize_member(model, i, method, seed)
    pruning = IterativeMagnitudePruning(rate=0.2, every_n_epochs=2)
    data = TinyData([seed for _, seed in members], chunk=5)
    # 4 epochs of 12 steps, with a prune and rewind halfway.
    tiny_trainer(4, [pruning]).fit(LotteryModule(model, lr=0.01), datamodule=data)
    return model


def test_member_of_three_matches_a_population_of_one():
    together = trained([(METHODS[0], 3), (METHODS[1], 5), (METHODS[2], 7)])
    alone = trained([(METHODS[1], 5)])
    for t, a in zip(together.layers, alone.layers, strict=True):
        torch.testing.assert_close(t.weight[1], a.weight[0], rtol=0, atol=1e-5)
        torch.testing.assert_close(t.bias[1], a.bias[0], rtol=0, atol=1e-5)
    assert not torch.allclose(together.layers[0].weight[0], together.layers[0].weight[1])


@pytest.mark.parametrize(
    "model",
    [
        ["epochs=4", "prune.every_n_epochs=2"],
        ["model=lenet5", "epochs=2", "prune.every_n_epochs=1"],
    ],
)
def test_a_members_numbers_do_not_depend_on_its_companions(tmp_path, mnist_raw, model):
    jobs = [
        ("xavier_normal", 1),
        ("kaiming_uniform", 1),
        ("xavier_uniform", 2),
        ("kaiming_normal", 3),
    ]
    settings = [*TINY, *model]

    def first_member(size: int) -> list[dict]:
        cfgs = [compose([*settings, f"init={i}", f"seed={s}"]) for i, s in jobs[:size]]
        dirs = [tmp_path / f"P{size}" / f"{i}_s{s}" for i, s in jobs[:size]]
        train_population(cfgs, dirs)
        return read_metrics(dirs[0])

    pair, four = first_member(2), first_member(4)
    for a, b in zip(pair, four, strict=True):
        for column in ("train_loss", "test_loss", "test_acc", "remaining"):
            assert a[column] == pytest.approx(b[column], abs=1e-6), column
