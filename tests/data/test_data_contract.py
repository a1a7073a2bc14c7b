"""Every dataset behind one contract: the model takes its input from the dataset, runs record the
data they read, old sweeps and checkpoints still work, and no report mixes datasets."""

import json
import shutil
from pathlib import Path

import pytest
import torch
from helpers import TINY
from omegaconf import OmegaConf
from synthetic import write_cifar_archive

from lottery_init.config.compose import compose
from lottery_init.config.paths import ROOT
from lottery_init.config.validate import validate
from lottery_init.data import fashion_mnist, idx
from lottery_init.data.dataset import dataset_of
from lottery_init.report.read.keys import setting_of
from lottery_init.runs.results import read_metrics, read_run
from lottery_init.sweep.folders import conflict
from lottery_init.tools.data_stats import channel_stats
from lottery_init.training.checkpoints import AtomicCheckpointIO
from lottery_init.training.population import train

FIXTURE = Path(__file__).parents[1] / "fixtures" / "pre_data_contract"
# The fixture's run: two one-epoch rounds on 600 MNIST images (tests/fixtures/README.md).
FIXTURE_RUN = ["epochs=2", "prune.every_n_epochs=1", "data.train_size=600", "data.test_size=200"]
FIXTURE_RUN += ["trainer=cpu"]
QUIET = ["+trainer.enable_progress_bar=false"]
HAS_FASHION = not idx.missing(fashion_mnist.folders(ROOT / "data"))


def test_lenet_on_mnist_gives_the_numbers_recorded_before_the_data_contract(tmp_path, mnist_raw):
    train(compose([*FIXTURE_RUN, *QUIET]), tmp_path)
    now, then = read_metrics(tmp_path), read_metrics(FIXTURE)
    assert [len(row) for row in now] == [len(row) for row in then]
    for new, old in zip(now, then, strict=True):
        # The CPU's own matrix kernels round sums differently from one processor generation
        # to the next (a loss moves in its 7th digit), so losses agree to float32 precision;
        # counts, fractions and accuracies exactly, as any change to the data would move them.
        for key in old:
            if key.endswith("_loss"):
                assert new[key] == pytest.approx(old[key], rel=1e-6), key
            elif key != "seconds":
                assert new[key] == old[key], key


def test_a_sweep_folder_written_before_the_data_contract_takes_the_same_job(tmp_path):
    shutil.copy(FIXTURE / "run.json", tmp_path / "run.json")
    assert conflict(tmp_path, compose(FIXTURE_RUN)) is None


def test_a_run_of_another_dataset_is_refused_a_pre_contract_mnist_folder(tmp_path):
    shutil.copy(FIXTURE / "run.json", tmp_path / "run.json")
    why = conflict(tmp_path, compose([*FIXTURE_RUN, "data=fashion_mnist"]))
    assert "data.name: mnist there, fashion_mnist now" in why


def test_a_checkpoint_written_before_the_data_contract_restores_the_data_order(tmp_path):
    state = {"gens": [torch.Generator().manual_seed(3).get_state()]}
    torch.save({"MNISTDataModule": state, "epoch": 4}, tmp_path / "last.ckpt")
    loaded = AtomicCheckpointIO().load_checkpoint(tmp_path / "last.ckpt")
    assert "MNISTDataModule" not in loaded
    assert torch.equal(loaded["ImageDataModule"]["gens"][0], state["gens"][0])


def cifar_config(data_dir: Path, *overrides: str):
    """A tiny run on a synthetic CIFAR-10 archive of 5 x 40 training and 40 test images."""
    md5 = write_cifar_archive(data_dir, per_file=40)
    cfg = compose(
        [*TINY, "data=cifar10", f"data.data_dir={data_dir}", "data.train_size=null"]
        + ["data.test_size=null", "data.sizes.train=200", "data.sizes.test=40", *overrides]
    )
    cfg.data.md5["cifar-10-binary.tar.gz"] = md5
    return cfg


def test_a_colour_dataset_trains_a_lenet_with_its_input_size(tmp_path):
    cfg = cifar_config(tmp_path / "data", "epochs=2", "prune.every_n_epochs=1")
    info = train(cfg, tmp_path / "run")
    assert [r["remaining"] for r in read_metrics(tmp_path / "run")] == pytest.approx([1, 0.8])
    assert info["config"]["model"]["input_shape"] == [3, 32, 32]
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert state["state_dict"]["model.layers.0.weight"].shape == (1, 300, 3 * 32 * 32)


def test_run_json_records_the_dataset_and_the_md5_of_every_file_read(tmp_path):
    cfg = cifar_config(tmp_path / "data", "epochs=1", "prune.every_n_epochs=1")
    train(cfg, tmp_path / "run")
    archive = str(tmp_path / "data" / "cifar-10-binary.tar.gz")
    md5 = cfg.data.md5["cifar-10-binary.tar.gz"]
    assert read_run(tmp_path / "run")["data"] == {"dataset": "cifar10", "files": {archive: md5}}


@pytest.mark.skipif(not HAS_FASHION, reason="Fashion-MNIST is not on this machine (see README)")
def test_lenet_learns_real_fashion_mnist(tmp_path):
    cfg = compose([*TINY, "data=fashion_mnist", "epochs=1", "prune.every_n_epochs=1"])
    info = train(cfg, tmp_path)
    # Chance is 10%: labels read out of step with their images would stay near it.
    assert info["rounds"][0]["test_acc"] > 0.6
    assert info["data"]["dataset"] == "fashion_mnist" and len(info["data"]["files"]) == 4


def test_an_unknown_dataset_is_refused_with_the_known_ones():
    cfg = compose(["data.name=svhn"])
    with pytest.raises(ValueError, match="data.name must be one of .*'fashion_mnist'.*'svhn'"):
        validate([cfg])


def test_a_normalisation_without_one_value_per_channel_is_refused():
    with pytest.raises(ValueError, match=r"one value per channel \(3\)"):
        validate([compose(["data=cifar10", "data.mean=[0.5]", "data.std=[0.25]"])])


def test_val_size_is_bounded_by_the_datasets_own_training_images():
    with pytest.raises(ValueError, match=r"data.val_size must lie in \(0, 50000\)"):
        validate([compose(["data=cifar10", "data.val_size=55000"])])


def test_the_mnist_normalisation_in_its_yaml_is_its_training_images_mean_and_std(mnist_raw):
    data = compose(["data=mnist"]).data
    mean, std = channel_stats(dataset_of(data), str(mnist_raw.parents[1]))
    assert [round(m, 4) for m in mean] == list(data.mean)
    assert [round(s, 4) for s in std] == list(data.std)


def test_a_run_recorded_before_the_data_contract_shares_the_setting_of_the_same_run_now():
    old = json.loads((FIXTURE / "run.json").read_text())["config"]
    now = OmegaConf.to_container(compose(FIXTURE_RUN), resolve=True)
    assert setting_of(old) == setting_of(now)
