"""End to end through the compose API: run files, TensorBoard events, config errors."""

import subprocess
import sys

import pytest
from helpers import TINY
from hydra.errors import ConfigCompositionException
from served import closed_url
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.custom_scalar.layout_pb2 import Layout
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

from lottery_init.config.compose import compose
from lottery_init.config.paths import ROOT
from lottery_init.runs import board
from lottery_init.runs.masks_file import load_masks
from lottery_init.runs.results import read_metrics, read_run
from lottery_init.train import round_table
from lottery_init.training.population import train, train_population


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, mnist_raw):
    """Three rounds of two epochs on 600 training images."""
    run_dir = tmp_path_factory.mktemp("run")
    info = train(compose([*TINY, "epochs=6", "prune.every_n_epochs=2"]), run_dir)
    return run_dir, info


def test_metrics_csv_has_one_row_per_epoch_with_the_remaining_fraction(tiny_run):
    rows = read_metrics(tiny_run[0])
    assert [r["epoch"] for r in rows] == [0, 1, 2, 3, 4, 5]
    assert [r["round"] for r in rows] == [0, 0, 1, 1, 2, 2]
    assert [r["remaining"] for r in rows] == pytest.approx([1, 1, 0.8, 0.8, 0.64, 0.64], abs=1e-4)
    assert all(0 < r["test_acc"] <= 1 and r["train_loss"] > 0 for r in rows)


def test_run_json_is_done_with_the_round_table(tiny_run):
    info = read_run(tiny_run[0])
    assert info["status"] == "done" and info["init"] == "xavier_normal" and info["seed"] == 0
    rounds = info["rounds"]
    assert [r["round"] for r in rounds] == [0, 1, 2]
    assert [r["remaining"] for r in rounds] == pytest.approx([1, 0.8, 0.64], abs=1e-4)
    test_acc = [r["test_acc"] for r in read_metrics(tiny_run[0])][1::2]
    assert [r["test_acc"] for r in rounds] == pytest.approx(test_acc)
    assert rounds[2]["layer_remaining"] == pytest.approx([0.64] * 3, abs=1e-3)
    assert set(info["versions"]) >= {"torch", "pytorch_lightning", "hydra"}


def events(run_dir) -> EventAccumulator:
    # Keep every histogram step (the accumulator keeps only the last one by default).
    return EventAccumulator(str(run_dir / "tb"), size_guidance={"histograms": 0}).Reload()


def hparams_data(run_dir, tag: str) -> HParamsPluginData:
    content = events(run_dir).summary_metadata[tag].plugin_data.content
    return HParamsPluginData.FromString(content)


def test_tensorboard_gets_every_epoch_metric(tiny_run):
    tags = set(events(tiny_run[0]).Tags()["scalars"])
    assert {"train/loss", "train/acc", "test/loss", "test/acc", "prune/remaining"} <= tags
    assert len(events(tiny_run[0]).Scalars("test/acc")) == 6


def test_tensorboard_ticket_scalars_are_the_round_table_by_round(tiny_run):
    rounds = read_run(tiny_run[0])["rounds"]
    for tag, key in (("ticket/test_acc", "test_acc"), ("ticket/remaining", "remaining")):
        points = events(tiny_run[0]).Scalars(tag)
        assert [p.step for p in points] == [0, 1, 2]
        assert [p.value for p in points] == pytest.approx([r[key] for r in rounds])


def test_tensorboard_summary_scalars_end_at_the_runs_summary(tiny_run):
    expected = board.summary(read_run(tiny_run[0])["rounds"])
    last = {tag: events(tiny_run[0]).Scalars(tag)[-1].value for tag in expected}
    assert last == pytest.approx(expected)


def test_tensorboard_draws_no_one_point_chart(tiny_run):
    accumulator = events(tiny_run[0])
    lengths = {tag: len(accumulator.Scalars(tag)) for tag in accumulator.Tags()["scalars"]}
    assert min(lengths.values()) >= 2, lengths


def test_tensorboard_hparams_rank_runs_by_the_summary_metrics(tiny_run):
    experiment = hparams_data(tiny_run[0], "_hparams_/experiment").experiment
    assert [m.name.tag for m in experiment.metric_infos] == board.METRICS
    start = hparams_data(tiny_run[0], "_hparams_/session_start_info").session_start_info
    assert start.hparams["init"].string_value == "xavier_normal"
    assert start.hparams["seed"].number_value == 0
    assert start.hparams["prune.method"].string_value == "magnitude"
    assert start.hparams["data.name"].string_value == "mnist"


def test_tensorboard_histograms_hold_theta0_and_each_rounds_surviving_weights(tiny_run):
    accumulator, masks = events(tiny_run[0]), load_masks(tiny_run[0])
    for layer in (1, 2, 3):
        theta0 = accumulator.Histograms(f"theta0/layer_{layer}")
        assert [h.step for h in theta0] == [0]
        assert theta0[0].histogram_value.num == masks[0][layer - 1].size
        survivors = accumulator.Histograms(f"survivors/layer_{layer}")
        assert [h.step for h in survivors] == [0, 1, 2]
        counts = [h.histogram_value.num for h in survivors]
        assert counts == [masks[r][layer - 1].sum() for r in (0, 1, 2)]


def test_tensorboard_custom_scalars_layout_charts_tickets_and_training(tiny_run):
    content = events(tiny_run[0]).Tensors("custom_scalars__config__")[0].tensor_proto
    layout = Layout.FromString(content.string_val[0])
    assert [c.title for c in layout.category] == ["tickets", "training"]
    tags = [t for c in layout.category for chart in c.chart for t in chart.multiline.tag]
    assert tags[0] == "^ticket/test_acc$" and "^test/acc$" in tags


def test_masks_npz_holds_each_rounds_mask_as_the_round_table_counts_it(tiny_run):
    masks, rounds = load_masks(tiny_run[0]), read_run(tiny_run[0])["rounds"]
    assert list(masks) == [r["round"] for r in rounds] == [0, 1, 2]
    assert [m.shape for m in masks[0]] == [(300, 784), (100, 300), (10, 100)]
    for r in rounds:
        layers = masks[r["round"]]
        assert [m.mean() for m in layers] == pytest.approx(r["layer_remaining"])
        kept = sum(m.sum() for m in layers) / sum(m.size for m in layers)
        assert kept == pytest.approx(r["remaining"])


def test_a_rounds_mask_only_removes_weights_from_the_rounds_before(tiny_run):
    masks = load_masks(tiny_run[0])
    for r in (1, 2):
        assert all((new <= old).all() for new, old in zip(masks[r], masks[r - 1], strict=True))


def test_a_checkpoint_of_the_last_epoch_is_kept(tiny_run):
    assert (tiny_run[0] / "checkpoints" / "last.ckpt").stat().st_size > 0


def test_round_table_lists_each_round(tiny_run):
    table = round_table(tiny_run[1])
    assert table.splitlines()[3].split()[:2] == ["2", "64.00%"]


def test_one_dense_epoch_on_full_mnist_reaches_95_percent(tmp_path, mnist_raw):
    cfg = compose(["epochs=1", "prune=dense", "trainer=cpu", "+trainer.enable_progress_bar=false"])
    info = train(cfg, tmp_path)
    assert info["rounds"][0]["test_acc"] >= 0.95


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("prune.rate=1.5", r"prune.rate must lie in \(0, 1\), got 1.5."),
        ("epochs=7", r"epochs \(7\) must be a positive multiple of prune.every_n_epochs \(5\)."),
        ("prune.rate=0", r"prune.rate must lie in \(0, 1\), got 0."),
        ("epochs=0", r"epochs \(0\) must be a positive multiple of prune.every_n_epochs \(5\)."),
        ("prune.scope=row", r"prune.scope must be one of \('layer', 'global'\), got 'row'."),
        ("prune.method=snip", r"prune.method must be one of \('magnitude', .*\), got 'snip'."),
        ("init.scheme=lecun", r"init.scheme must be one of \('xavier', 'kaiming'\), got 'lecun'."),
        (
            "init.distribution=laplace",
            r"init.distribution must be one of \('uniform', 'normal'\), got 'laplace'.",
        ),
        ("seed=-1", "seed must be a non-negative integer, got -1."),
        ("batch_size=0", "batch_size must be a positive integer, got 0."),
        ("lr=0", "lr must be positive, got 0."),
        ("data.train_size=0", "data.train_size must be a positive number of images, or null"),
        ("data.test_size=0", "data.test_size must be a positive number of images, or null"),
        ("data.val_size=0", r"data.val_size must lie in \(0, 600\), got 0."),
    ],
)
def test_a_bad_config_stops_before_training(tmp_path, override, message):
    with pytest.raises(ValueError, match=message):
        train(compose([*TINY, override]), tmp_path)
    assert not (tmp_path / "metrics.csv").exists()


def test_population_members_must_differ_only_in_init_and_seed(tmp_path):
    cfgs = [compose([*TINY, "seed=1"]), compose([*TINY, "init=kaiming_normal", "lr=0.1"])]
    with pytest.raises(ValueError, match="may differ only in init and seed"):
        train_population(cfgs, [tmp_path / "a", tmp_path / "b"])


@pytest.mark.parametrize(
    ("override", "says"),
    [
        (
            "epochs=ten",
            ["Value 'ten' of type 'str' could not be converted to Integer", "full_key: epochs"],
        ),
        ("prune.rat=0.3", ["Could not override 'prune.rat'"]),
        ("data.chunk=1.5", ["could not be converted to Integer", "full_key: data.chunk"]),
    ],
)
def test_the_schema_rejects_a_wrong_type_or_an_unknown_key_while_composing(override, says):
    with pytest.raises(ConfigCompositionException) as error:
        compose([override])
    text = f"{error.value} {error.value.__cause__}"
    assert all(part in text for part in says), text


def test_a_bad_value_on_the_command_line_prints_one_sentence(tmp_path):
    cmd = [sys.executable, "-m", "lottery_init.train", "lr=-1", f"hydra.run.dir={tmp_path}"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "lr must be positive, got -1." in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "metrics.csv").exists()


def test_a_missing_dataset_ends_the_command_with_its_sentence(tmp_path):
    # No CIFAR-10 in an empty folder, and its address unreachable: what a new user meets offline.
    url = closed_url()
    cmd = [sys.executable, "-m", "lottery_init.train", "data=cifar10", f"data.url={url}"]
    cmd += [f"data.data_dir={tmp_path / 'data'}", f"hydra.run.dir={tmp_path / 'run'}"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    sentence = (
        "CIFAR-10 is missing; put the official cifar-10-binary.tar.gz or torchvision's "
        f"cifar-10-batches-py/ in {tmp_path / 'data'}, or let it download (could not download "
        f"{url}cifar-10-binary.tar.gz: {url.split('/')[2]} could not be reached)."
    )
    assert sentence in done.stderr.splitlines()
    assert "Traceback" not in done.stderr


def test_a_sweep_whose_data_is_corrupt_names_the_file_once_and_ends_with_one_line(tmp_path):
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(b"not CIFAR-10")
    cmd = [sys.executable, "-m", "lottery_init.train", "--multirun", "data=cifar10", "seed=0,1"]
    cmd += [f"data.data_dir={tmp_path}", f"hydra.sweep.dir={tmp_path / 'sweep'}", *TINY]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    said = done.stdout + done.stderr
    named = f"{tmp_path / 'cifar-10-binary.tar.gz'} does not match the official CIFAR-10 binary"
    assert said.count(named) == 1 and "Traceback" not in said
    assert "1 of 1 population(s) failed: population 1/1 (DataError, above)." in done.stderr
