"""Ticket anatomy and mask overlap: the functions on hand-made masks, and the report's section."""

import math

import numpy as np
import pytest
from helpers import TINY

from lottery_init.config.compose import compose
from lottery_init.report.anatomy import started_large, ticket, ticket_section
from lottery_init.report.overlap import (
    jaccard,
    nearest_rounds,
    overlap_figure,
    overlap_rows,
    random_jaccard,
)
from lottery_init.report.read.sweep import load_sweep
from lottery_init.training.population import train_population


def test_jaccard_is_shared_over_either():
    a = np.array([1, 1, 0, 0, 1], dtype=bool)
    b = np.array([1, 0, 1, 0, 1], dtype=bool)
    assert jaccard(a, b) == pytest.approx(2 / 4)


def test_random_masks_overlap_as_simulated():
    n, k1, k2, draws = 200, 50, 80, 4000
    gen = np.random.default_rng(7)
    sims = []
    for _ in range(draws):
        a, b = np.zeros(n, bool), np.zeros(n, bool)
        a[gen.choice(n, k1, replace=False)] = True
        b[gen.choice(n, k2, replace=False)] = True
        sims.append(jaccard(a, b))
    standard_error = np.std(sims) / math.sqrt(draws)
    assert random_jaccard(n, k1, k2) == pytest.approx(np.mean(sims), abs=4 * standard_error)


def test_full_masks_overlap_completely_even_at_random():
    assert random_jaccard(100, 100, 100) == 1.0


def test_started_large_is_the_share_of_survivors_among_the_largest_initial_weights():
    magnitude = np.array([0.1, 0.5, 0.9, 0.3])
    assert started_large(np.array([0, 1, 1, 0], bool), magnitude) == 1.0
    assert started_large(np.array([1, 0, 1, 0], bool), magnitude) == 0.5


def test_the_rounds_shown_are_those_nearest_the_studys_marks_that_the_sweep_reached():
    remaining = {r: 0.8**r for r in range(20)}
    assert nearest_rounds(remaining, (0.21, 0.069, 0.018)) == [7, 12, 18]
    assert nearest_rounds({r: 0.8**r for r in range(13)}, (0.21, 0.069, 0.018)) == [7, 12]


@pytest.fixture(scope="module")
def masked_sweep(tmp_path_factory, mnist_raw):
    """Two methods x two seeds, three prunes on 600 images."""
    folder = tmp_path_factory.mktemp("sweep")
    jobs = [(i, s) for i in ("xavier_normal", "kaiming_normal") for s in (0, 1)]
    settings = [*TINY, "epochs=4", "prune.every_n_epochs=1"]
    cfgs = [compose([*settings, f"init={i}", f"seed={s}"]) for i, s in jobs]
    train_population(cfgs, [folder / f"{i}_s{s}" for i, s in jobs])
    return folder


def test_normal_methods_at_one_seed_share_their_draws_and_so_most_of_their_masks(masked_sweep):
    sweep = load_sweep(masked_sweep)
    masks = {label: {r.seed: ticket(r).masks for r in runs} for label, runs in sweep.usable.items()}
    rows = [r for r in overlap_rows(masks, [3]) if r["comparison"].endswith("same seed")]
    assert [r["pairs"] for r in rows] == [2, 2, 2]
    assert all(r["jaccard"] > r["random"] + 0.3 for r in rows)


def test_the_report_section_draws_anatomy_and_overlap(masked_sweep, tmp_path):
    runs = [r for group in load_sweep(masked_sweep).usable.values() for r in group]
    lines = ticket_section(runs, tmp_path)
    assert (tmp_path / "anatomy.png").stat().st_size > 0 and (tmp_path / "overlap.png").exists()
    assert "## Ticket anatomy: which weights survive" in lines
    assert sum(line.startswith("| xavier_normal | 3 |") for line in lines) == 3


def test_an_overlap_figure_of_many_comparisons_draws_their_two_means():
    rows = [
        {"round": r, "layer": 1, "remaining": 0.8**r, "jaccard": 0.5, "random": 0.4, "pairs": 1}
        | {"comparison": f"m{k}: seed vs seed" if k < 7 else f"m{k} vs m0: same seed"}
        for k in range(13)
        for r in range(3)
    ]
    (ax,) = overlap_figure(rows).axes
    assert [line.get_label() for line in ax.get_lines()] == [
        "seed vs seed (mean)",
        "methods at one seed (mean)",
        "random masks",
    ]
