"""A round's host work done the cheap way (numpy, masks.npz kept in memory) writes the same data
as the torch way it replaced; `RunRecorder` counts its time."""

import numpy as np
import pytest
import torch
from helpers import TinyData, tiny_trainer
from torch.utils.tensorboard.summary import histogram

from lottery_init.models import LeNet
from lottery_init.pruning import IterativeMagnitudePruning
from lottery_init.pruning.masks import pack_mask
from lottery_init.runs import board
from lottery_init.runs import masks_file as tickets
from lottery_init.runs.results import RunWriter
from lottery_init.training.lightning_module import LotteryModule
from lottery_init.training.recorder import RunRecorder


@pytest.mark.parametrize("shape", [(300, 784), (7, 13), (1, 1), (3, 5)])
def test_pack_mask_packs_tensors_and_arrays_alike_in_numpy_order(shape):
    mask = torch.rand(shape, generator=torch.Generator().manual_seed(0)) > 0.5
    expected = np.packbits(mask.numpy().reshape(-1))
    for packed in (pack_mask(mask).numpy(), pack_mask(mask.numpy()).numpy()):
        assert packed.dtype == expected.dtype and np.array_equal(packed, expected)


def test_masks_kept_in_memory_write_the_file_a_fresh_read_would(tmp_path):
    gen = torch.Generator().manual_seed(0)
    rounds = [[torch.rand(4, 9, generator=gen) > 0.5, torch.rand(3, 4, generator=gen) > 0.5]]
    # The second round's masks come as numpy arrays, as the recorder hands them over.
    rounds.append([(m & (torch.rand(m.shape, generator=gen) > 0.5)).numpy() for m in rounds[0]])
    entries = None
    for folder in ("read", "kept"):
        (tmp_path / folder).mkdir()
    for r, masks in enumerate(rounds):
        tickets.save_round(tmp_path / "read", r, masks)
        entries = tickets.save_round(tmp_path / "kept", r, masks, entries)
    read, kept = (np.load(tmp_path / name / tickets.MASKS) for name in ("read", "kept"))
    assert read.files == kept.files == list(entries)
    for name in read.files:
        assert read[name].dtype == kept[name].dtype and np.array_equal(read[name], kept[name])


class Histograms:
    """Stands in for a SummaryWriter: the serialized histogram summary of each call."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def add_histogram(self, tag: str, values: np.ndarray, step: int, bins: int) -> None:
        self.written.append(histogram(tag, values, bins).SerializeToString())


def test_histograms_from_numpy_are_those_of_the_finite_torch_values():
    weights = [torch.randn(30, 20), torch.randn(5, 30), torch.full((2, 5), torch.inf)]
    weights[1][0, :3] = torch.tensor([torch.nan, torch.inf, -torch.inf])
    tb = Histograms()
    board.log_weights(tb, "w", [w.numpy() for w in weights], 0)
    finite = [w[torch.isfinite(w)] for w in weights[:2]]
    assert tb.written == [
        histogram(f"w/layer_{i + 1}", v, 100).SerializeToString() for i, v in enumerate(finite)
    ]


def test_the_recorder_counts_its_files_and_histograms(tmp_path):
    torch.manual_seed(0)
    module = LotteryModule(LeNet(2, input_shape=[20], hidden=[12, 8], num_classes=3), lr=0.01)
    pruning = IterativeMagnitudePruning(rate=0.2, every_n_epochs=1)
    writers = [RunWriter(tmp_path / f"m{p}", {"init": "x", "seed": p}) for p in range(2)]
    recorder = RunRecorder(writers, pruning)
    tiny_trainer(2, [pruning, recorder]).fit(module, datamodule=TinyData([0, 1]))
    assert recorder.host_seconds["files"] > 0 and recorder.host_seconds["histograms"] > 0
    masks = tickets.load_masks(tmp_path / "m1")
    assert list(masks) == [0, 1]
    for saved, mask in zip(masks[1], pruning.masks, strict=True):
        assert np.array_equal(saved, mask[1].numpy())
