"""Per-layer survivors in the collapse: counts from run.json, the output layer's starving round
under the real pruning maths, the breaking-round table and the marks in the figures."""

from pathlib import Path

import torch

from lottery_init.pruning.masks import layer_remaining, prune_masks
from lottery_init.report.layers import (
    FEW_PER_CLASS,
    breaking_layers_table,
    kept,
    layers_section,
    starved_round,
)
from lottery_init.report.read.sweep import Run
from lottery_init.report.stability import breaks, remaining_by_round, stability_figure

SHAPES = [(300, 784), (100, 300), (10, 100)]  # LeNet-300-100, the model of an empty config


def pruned(rates: list[float], rounds: int) -> list[list[torch.Tensor]]:
    """Each round's masks under `prune_masks` with random scores (IMP's counts)."""
    gen = torch.Generator().manual_seed(0)
    masks = [torch.ones(1, *shape, dtype=torch.bool) for shape in SHAPES]
    found = []
    for _ in range(rounds):
        found.append(masks)
        scores = [torch.rand(m.shape, generator=gen) for m in masks]
        masks = prune_masks(scores, masks, rates)
    return found


def schedule(rates: list[float], rounds: int) -> list[list[float]]:
    """Each round's per-layer remaining fractions, as IMP records them in run.json."""
    return [layer_remaining(masks)[0].tolist() for masks in pruned(rates, rounds)]


def run(seed: int, accs: list[float], fractions: list[list[float]], init: str = "xavier") -> Run:
    """A LeNet-300-100 run ending round r at accs[r] with the layers' `fractions[r]` kept."""
    rounds = [
        {"round": r, "remaining": 0.8**r, "test_acc": acc, "layer_remaining": fractions[r]}
        for r, acc in enumerate(accs)
    ]
    return Run(Path(f"{init}_s{seed}"), init, seed, "done", rounds, [])


def test_kept_counts_each_layers_weights_from_its_remaining_fraction():
    masks = pruned([0.2, 0.2, 0.2], 17)
    study = [layer_remaining(m)[0].tolist() for m in masks]
    assert kept(run(0, [0.98] * 17, study), 16) == [int(m.sum()) for m in masks[16]]


def test_the_output_layer_starves_at_round_16_in_the_study_and_never_at_half_rate():
    # 1000 x 0.8^16 = 28 output weights, under 3 per class for 10 classes; 0.9^19 keeps 135.
    assert starved_round(run(0, [0.98] * 20, schedule([0.2, 0.2, 0.2], 20))) == 16
    assert starved_round(run(0, [0.98] * 20, schedule([0.2, 0.2, 0.1], 20))) is None


def test_the_table_gives_each_seeds_survivors_per_layer_at_its_breaking_round():
    study = schedule([0.2, 0.2, 0.2], 6)
    usable = {"xavier": [run(0, [0.98, 0.98, 0.98, 0.90, 0.90, 0.90], study)]}
    rows = breaking_layers_table(usable, breaks(usable))
    assert rows[2] == "| xavier | 0 | 2 | 150,528 | 19,200 | 640 | 64.0 |"


def test_the_stability_figure_marks_where_the_output_layer_starves():
    study = schedule([0.2, 0.2, 0.2], 20)
    usable = {"xavier": [run(s, [0.98] * 20, study) for s in range(3)]}
    ax = stability_figure(usable).axes[0]
    marks = [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == ":"]
    assert marks == [remaining_by_round(usable["xavier"])[16] * 100]


def test_the_layers_section_draws_its_figure_and_skips_runs_without_layer_records(tmp_path):
    study = schedule([0.2, 0.2, 0.2], 3)
    usable = {"xavier": [run(0, [0.98, 0.98, 0.98], study)]}
    assert f"{FEW_PER_CLASS} output weights per class" in "\n".join(
        layers_section(usable, breaks(usable), tmp_path)
    )
    assert (tmp_path / "layers.png").exists()
    for entry in usable["xavier"][0].rounds:
        del entry["layer_remaining"]
    assert layers_section(usable, breaks(usable), tmp_path / "none") == []
