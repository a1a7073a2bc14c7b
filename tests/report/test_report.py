"""The report on synthetic sweeps with known numbers, and on a real tiny sweep."""

import csv
import json
import math
import re

import nbformat
import pytest
from helpers import TINY
from nbclient import NotebookClient
from omegaconf import OmegaConf

from lottery_init.config.compose import compose
from lottery_init.config.paths import ROOT
from lottery_init.report import distributions, figures
from lottery_init.report.claims import judge_all
from lottery_init.report.command import NoUsableRuns, main, write_report, write_reports
from lottery_init.report.differences import differences
from lottery_init.report.read.sweep import load_sweep, read_runs
from lottery_init.report.setting import init_methods
from lottery_init.report.summary import pair_rounds, round_stats, thresholds
from lottery_init.report.tables import summary_markdown
from lottery_init.runs.results import RunWriter
from lottery_init.training.population import train_population

# Round-end test accuracies per seed; xavier_normal seed 3 fails, kaiming_normal seed 3 is missing.
XAVIER = {0: [0.90, 0.91, 0.89], 1: [0.92, 0.95, 0.90], 2: [0.94, 0.93, 0.94]}
KAIMING = {0: [0.80, 0.70, 0.60], 1: [0.81, 0.71, 0.61], 2: [0.82, 0.72, 0.62]}
PNG = b"\x89PNG\r\n\x1a\n"


def fake_run(
    folder,
    init: str,
    seed: int,
    accs: list[float],
    status: str = "done",
    dataset: str | None = None,
    **prune,
) -> None:
    """A run folder written through `runs/results.py`, one epoch per round (on `dataset`, where
    given; a run.json from before datasets were named otherwise)."""
    init_cfg = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "init" / f"{init}.yaml"))
    config = {"init": {**init_cfg, "name": init}, "model": {"hidden": [300, 100]}, "prune": prune}
    config |= {"data": {"name": dataset}} if dataset is not None else {}
    name = f"{dataset or ''}{init}_s{seed}" + "".join(f"_{v}" for v in prune.values())
    writer = RunWriter(folder / name, {"init": init, "seed": seed, "config": config})
    for r, acc in enumerate(accs):
        kept = 0.8**r
        row = {"epoch": r, "round": r, "remaining": kept, "test_acc": acc, "seconds": 1.0}
        writer.epoch(row | {"train_loss": 0.1, "train_acc": 0.9, "test_loss": 0.2})
        writer.end_round(
            {"round": r, "remaining": kept, "test_acc": acc, "layer_remaining": [kept] * 3}
        )
    writer.close(status, reason="loss is not finite in epoch 1" if status == "failed" else None)


def synthetic(folder, kaiming_shift: float = 0.0):
    for seed, accs in XAVIER.items():
        fake_run(folder / "deep" / "er", "xavier_normal", seed, accs)
        fake_run(folder, "kaiming_normal", seed, [a + kaiming_shift for a in KAIMING[seed]])
    fake_run(folder, "xavier_normal", 3, [0.1, 0.1, 0.1], status="failed")
    return folder


def stat(stats, init: str, r: int):
    return next(s for s in stats if s.init == init and s.round == r)


def test_means_and_standard_deviations_equal_hand_computed_values(tmp_path):
    stats = round_stats(load_sweep(synthetic(tmp_path)).usable)
    assert (
        stat(stats, "xavier_normal", 0).mean,
        stat(stats, "xavier_normal", 0).std,
    ) == pytest.approx((0.92, 0.02))
    assert stat(stats, "xavier_normal", 2).mean == pytest.approx(0.91)
    assert stat(stats, "xavier_normal", 2).std == pytest.approx(math.sqrt(0.0007))
    assert stat(stats, "kaiming_normal", 1).mean == pytest.approx(0.71)
    assert stat(stats, "xavier_normal", 1).remaining == pytest.approx(0.8)


def test_winning_ticket_thresholds_by_mean_and_by_every_seed(tmp_path):
    limits = {t.init: t for t in thresholds(round_stats(load_sweep(synthetic(tmp_path)).usable))}
    # xavier_normal: dense 0.92; round 1 mean 0.93 holds, round 2 mean 0.91 does not; seed 1
    # drops below its own dense 0.92 in round 2 and seed 2 already in round 1.
    assert limits["xavier_normal"].dense == pytest.approx(0.92)
    assert limits["xavier_normal"].by_mean == pytest.approx(0.8)
    assert limits["xavier_normal"].every_seed == pytest.approx(1.0)
    assert limits["kaiming_normal"].by_mean == pytest.approx(1.0)


def test_failed_and_missing_runs_are_left_out_and_listed(tmp_path):
    sweep = load_sweep(synthetic(tmp_path))
    assert sorted(r.seed for r in sweep.usable["xavier_normal"]) == [0, 1, 2]
    assert sweep.left_out == [
        ("kaiming_normal", 3, "missing"),
        ("xavier_normal", 3, "failed: loss is not finite in epoch 1"),
    ]
    report = (write_report(tmp_path) / "report.md").read_text()
    assert "- xavier_normal, seed 3: failed: loss is not finite in epoch 1" in report
    assert "- kaiming_normal, seed 3: missing" in report
    assert "92.00 ± 2.00 (3)" in (tmp_path / "report" / "summary.md").read_text()


@pytest.mark.parametrize(("shift", "significant"), [(0.0, True), (0.21, False)])
def test_significance_against_the_best_follows_the_size_of_the_difference(
    tmp_path, shift, significant
):
    # Round 1: xavier 0.93 ± 0.02 against kaiming 0.71 ± 0.01 (p ≈ 0.0005), or, shifted by
    # 0.21, against 0.92 ± 0.01 (p ≈ 0.5).
    stats = round_stats(load_sweep(synthetic(tmp_path, kaiming_shift=shift)).usable)
    assert stat(stats, "kaiming_normal", 1).significant is significant
    assert math.isnan(stat(stats, "xavier_normal", 1).p_vs_best)


def test_every_figure_is_a_png_with_a_curve_per_method(tmp_path):
    out = write_report(synthetic(tmp_path))
    for name in ("tickets.png", "init_distributions.png", "remaining.png", "curves.png"):
        assert (out / name).read_bytes().startswith(PNG), name
    sweep = load_sweep(tmp_path)
    stats = round_stats(sweep.usable)
    (tickets_ax,) = figures.tickets(stats, {"kaiming_normal": 1, "xavier_normal": 1}).axes
    assert [c.get_label() for c in tickets_ax.containers] == ["kaiming_normal", "xavier_normal"]
    assert len(figures.curves(sweep.usable).axes[0].lines) == 2
    run = sweep.usable["xavier_normal"][0]
    assert len(figures.remaining(run).axes[0].lines) == 4  # all weights and three layers
    dist = distributions.init_distributions(init_methods(sweep), run.config)
    assert [len(ax.lines) for ax in dist.axes] == [2, 2, 2]


def test_narrowed_and_widened_methods_get_their_own_panel():
    scales = {"xavier_normal": 1.0, "xavier_normal_half": 0.5, "kaiming_uniform": 1.0}
    assert figures.panels(scales) == [
        ("standard methods", ["kaiming_uniform", "xavier_normal"]),
        ("narrowed and widened", ["xavier_normal_half"]),
    ]


def test_summary_csv_has_a_row_per_method_and_round(tmp_path):
    out = write_report(synthetic(tmp_path))
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["init"], r["round"], r["n"]) for r in rows][:2] == [("kaiming_normal", "0", "3")] + [
        ("kaiming_normal", "1", "3")
    ]
    assert len(rows) == 6


def test_a_pair_sentence_gives_the_test_the_widest_gap_and_its_interval(tmp_path):
    long_runs(tmp_path, {15: 0.02, 16: 0.03})
    report = (write_report(tmp_path) / "report.md").read_text()
    stats = round_stats(load_sweep(tmp_path).usable)
    rounds = pair_rounds(stats, "xavier_normal", "kaiming_normal", max_remaining=0.8**15)
    assert [x.round for x, _, _ in rounds] == [15, 16]
    x, _, c = rounds[1]
    assert c.test == "paired t" and c.n == (6, 6)
    expected = (
        f"Widest gap: {c.diff * 100:+.2f} points [{c.ci[0] * 100:+.2f}, {c.ci[1] * 100:+.2f}] "
        f"at {x.remaining:.1%} remaining, d = {c.effect:.2f}, Holm p = {c.p_holm:.3g}."
    )
    assert expected in report and c.ci[0] < c.diff < c.ci[1]
    assert "The sweep has none of the methods this conclusion compares." in report


def test_a_claim_without_rounds_in_its_range_says_so(tmp_path):
    report = (write_report(synthetic(tmp_path)) / "report.md").read_text()
    # Xavier vs Kaiming is judged from 3.5% remaining down, and these runs stop at 64%.
    assert "Judged from 3.5% of the weights remaining down." in report
    assert "The sweep has no round in this range." in report


def long_runs(folder, gap: dict[int, float], seeds: int = 6) -> None:
    """17-round runs: kaiming_normal's accuracy plus `gap[r]` for xavier_normal in round r,
    with a per-seed effect both share."""
    for seed in range(seeds):
        base = [0.95 + 0.002 * ((seed * 7 + r) % 5) for r in range(17)]
        fake_run(folder, "kaiming_normal", seed, base)
        xavier = [acc + gap.get(r, 0.0) + 0.0005 * (seed % 2) for r, acc in enumerate(base)]
        fake_run(folder, "xavier_normal", seed, xavier)


def test_a_claim_is_judged_over_its_own_range_only(tmp_path):
    # Kaiming is ahead while most weights remain; Xavier from 3.5% (round 15) down.
    long_runs(tmp_path, {r: -0.01 for r in range(15)} | {15: 0.02, 16: 0.02})
    report = (write_report(tmp_path) / "report.md").read_text()
    section = report.split("### 3.")[1]
    assert "significantly ahead at 3.5%, 2.8%" in section
    assert "**Supported**" in section and "significantly behind at no round" in section


def test_equal_methods_are_shown_equivalent_and_noisy_ones_are_inconclusive(tmp_path):
    for seed in range(12):
        acc = [0.95 + 0.003 * ((seed * 5) % 7)] * 2
        fake_run(tmp_path / "calm", "xavier_normal", seed, acc)
        fake_run(tmp_path / "calm", "xavier_uniform", seed, [a + 0.0002 * (seed % 3) for a in acc])
    calm = (write_report(tmp_path / "calm") / "report.md").read_text().split("### 1.")[1]
    assert "**Shown equivalent**" in calm.split("###")[0]
    for seed in range(3):
        fake_run(tmp_path / "noisy", "xavier_normal", seed, [0.95, 0.95])
        fake_run(tmp_path / "noisy", "xavier_uniform", seed, [0.95 + 0.004 * (seed - 1)] * 2)
    noisy = (write_report(tmp_path / "noisy") / "report.md").read_text().split("### 1.")[1]
    assert "**Inconclusive**" in noisy and "seeds per method would show equivalence" in noisy


def test_differences_figure_has_a_panel_per_conclusion_and_pairs_csv_a_row_per_round(tmp_path):
    out = write_report(synthetic(tmp_path))
    assert (out / "differences.png").read_bytes().startswith(PNG)
    stats = round_stats(load_sweep(tmp_path).usable)
    fig = differences(stats, judge_all(stats))
    assert len(fig.axes) == 3
    # Conclusion 3's pair: its line, the zero line; the similar panel has no pair here.
    with open(out / "pairs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows == []  # Xavier vs Kaiming has no round in its range; no other pair is present
    long_runs(tmp_path / "long", {r: 0.01 for r in range(17)})
    out = write_report(tmp_path / "long")
    with open(out / "pairs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["claim"], r["round"], r["test"]) for r in rows] == [
        ("3", "15", "paired t"),
        ("3", "16", "paired t"),
    ]
    assert float(rows[0]["diff"]) == pytest.approx(0.01, abs=0.001)
    assert "## Power: is it worth running more seeds?" in (out / "report.md").read_text()


def test_report_of_a_real_tiny_sweep_end_to_end(tmp_path, mnist_raw, capsys):
    for init in ("xavier_normal", "kaiming_uniform"):
        cfgs = [
            compose([*TINY, f"init={init}", f"seed={s}", "epochs=2", "prune.every_n_epochs=1"])
            for s in (0, 1)
        ]
        train_population(cfgs, [tmp_path / f"{init}_s{s}" for s in (0, 1)])
    main([str(tmp_path)])
    assert "report written to" in capsys.readouterr().out
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert summary.count("(2)") == 4  # two methods x two rounds, each over two seeds


def test_a_report_of_a_folder_without_usable_runs_raises_no_usable_runs(tmp_path):
    fake_run(tmp_path, "xavier_normal", 0, [0.9], status="failed")
    with pytest.raises(NoUsableRuns, match=re.escape(f"No usable run under {tmp_path}: no run")):
        write_report(tmp_path)
    assert not (tmp_path / "report").exists()


def test_the_command_on_a_folder_without_usable_runs_exits_with_one_sentence(tmp_path):
    sentence = f"No usable run under {tmp_path}: no run.json that is running or done."
    with pytest.raises(SystemExit) as stopped:
        main([str(tmp_path)])
    assert stopped.value.code == sentence


NOTEBOOK = ROOT / "notebooks" / "seed_paper.ipynb"
# The notebook's cells whose last line draws a figure, by the call they end with.
FIGURE_CELLS = (
    "figures.tickets",
    "figures.curves",
    "distributions.init_distributions",
    "figures.remaining",
)


def test_the_notebook_is_kept_in_git_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)


def test_the_notebook_draws_every_figure_in_a_real_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("SWEEP_DIR", str(synthetic(tmp_path)))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in notebook.cells if c.cell_type == "code"]
    drawn = [c for c in code if c.source.strip().splitlines()[-1].startswith(FIGURE_CELLS)]
    assert len(drawn) == len(FIGURE_CELLS)
    for cell in drawn:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, (cell.source, cell.outputs)
    assert str(tmp_path) in "".join(o.get("text", "") for o in code[0].outputs)


def test_controls_are_reported_apart_from_the_tickets_of_the_same_init(tmp_path):
    for seed in (0, 1):
        fake_run(tmp_path, "xavier_normal", seed, [0.9, 0.9])
        fake_run(tmp_path, "xavier_normal", seed, [0.9, 0.8], rewind="reinit")
        fake_run(tmp_path, "xavier_normal", seed, [0.9, 0.7], method="random")
    sweep = load_sweep(tmp_path)
    assert sorted(sweep.usable) == [
        "xavier_normal",
        "xavier_normal (random)",
        "xavier_normal (reinit)",
    ]
    stats = round_stats(sweep.usable)
    assert stat(stats, "xavier_normal (reinit)", 1).mean == pytest.approx(0.8)
    assert sweep.left_out == []


def test_early_stopping_accuracy_gets_its_own_table(tmp_path):
    # One round of three epochs; the least val_loss picks epoch 1 (seed 0) and epoch 2 (seed 1).
    for seed, val_losses, test_accs in (
        (0, [0.5, 0.3, 0.4], [0.8, 0.9, 0.7]),
        (1, [0.5, 0.4, 0.2], [0.8, 0.7, 0.94]),
    ):
        config = {"init": {"name": "xavier_normal"}, "prune": {}}
        info = {"init": "xavier_normal", "seed": seed, "config": config}
        writer = RunWriter(tmp_path / f"s{seed}", info, validation=True)
        for epoch, (val_loss, acc) in enumerate(zip(val_losses, test_accs, strict=True)):
            row = {"epoch": epoch, "round": 0, "remaining": 1.0, "test_acc": acc, "seconds": 1.0}
            row |= {
                "train_loss": 0.1,
                "train_acc": 0.9,
                "test_loss": 0.2,
                "val_loss": val_loss,
                "val_acc": 0.9,
            }
            writer.epoch(row)
        writer.end_round(
            {"epoch": 2, "round": 0, "remaining": 1.0, "test_acc": acc, "layer_remaining": [1.0]}
        )
        writer.close("done")
    early = round_stats(load_sweep(tmp_path).usable, key="early_stop_test_acc")
    assert early[0].mean == pytest.approx(0.92) and early[0].std == pytest.approx(math.sqrt(0.0008))
    text = summary_markdown(round_stats(load_sweep(tmp_path).usable), [], early)
    assert "early-stopping epoch" in text and "92.00 ± 2.83 (2)" in text


def test_a_sweep_of_two_datasets_is_reported_per_setting_with_an_index(tmp_path):
    for seed, accs in XAVIER.items():
        fake_run(tmp_path, "xavier_normal", seed, accs, dataset="mnist")
        fake_run(tmp_path, "xavier_normal", seed, [a - 0.1 for a in accs], dataset="fashion_mnist")
    outs = write_reports(tmp_path)
    root = tmp_path / "report"
    assert outs == [root, root / "lenet_fashion_mnist", root / "lenet_mnist"]
    with open(outs[1] / "summary.csv") as f:
        fashion = {(r["init"], r["round"]): r for r in csv.DictReader(f)}
    assert float(fashion[("xavier_normal", "0")]["mean_test_acc"]) == pytest.approx(0.82)
    assert (
        (outs[1] / "report.md")
        .read_text()
        .startswith(f"# Report: {tmp_path.name}, lenet, fashion_mnist")
    )
    index = (root / "report.md").read_text()
    assert "| lenet, fashion_mnist | 3 | not tested | not tested | not tested |" in index
    assert "- [lenet, mnist](lenet_mnist/report.md)" in index


def test_loading_a_sweep_of_two_datasets_without_choosing_one_is_refused(tmp_path):
    fake_run(tmp_path, "xavier_normal", 0, [0.9], dataset="mnist")
    fake_run(tmp_path, "xavier_normal", 0, [0.8], dataset="fashion_mnist")
    with pytest.raises(ValueError, match="settings .lenet, fashion_mnist; lenet, mnist., which"):
        load_sweep(tmp_path)
    mnist = next(r.setting for r in read_runs(tmp_path) if r.dataset == "mnist")
    assert [r.seed for r in load_sweep(tmp_path, mnist).usable["xavier_normal"]] == [0]


def test_a_sweep_of_two_models_is_reported_per_model(tmp_path):
    fake_run(tmp_path, "xavier_normal", 0, [0.9, 0.91])
    fake_run(tmp_path / "conv", "xavier_normal", 1, [0.8, 0.7])
    run_json = next((tmp_path / "conv").rglob("run.json"))
    info = json.loads(run_json.read_text())
    info["config"]["model"] = {"_target_": "lottery_init.models.ConvNet", "convs": [6, 16]}
    run_json.write_text(json.dumps(info))
    with pytest.raises(ValueError, match="several settings .ConvNet, mnist, model._target_="):
        load_sweep(tmp_path)
    outs = write_reports(tmp_path)
    assert [out.name for out in outs][:2] == [
        "report",
        "ConvNet_mnist_model._target_=-lottery_init.models.ConvNet-_model.convs=-6-16-",
    ]
    assert outs[2].name.startswith("lenet_mnist_model._target_=")
