"""The device a sweep trains on, its memory, and FP32 pinned and recorded; GPUs are made
"visible" by patching torch's device queries, so these run without one."""

import json
import os
import subprocess
import sys

import pytest
import torch
from helpers import TINY
from omegaconf import OmegaConf

from hydra_plugins.population_launcher.launcher import PopulationLauncher
from lottery_init.config.compose import compose
from lottery_init.config.paths import ROOT
from lottery_init.config.validate import validate
from lottery_init.devices import local_devices, pin_precision, sweep_device_kind, trainer_device
from lottery_init.runs.provenance import device_record
from lottery_init.runs.results import read_run
from lottery_init.sweep.folders import conflict
from lottery_init.sweep.packing import MemoryFit
from lottery_init.sweep.placement import capacity, place
from lottery_init.training.population import train

GIB = 2**30


@pytest.fixture
def two_gpus(monkeypatch):
    """Two 80 GiB GPUs with 60 and 40 GiB free, as torch's device queries report them."""
    free = {0: 60 * GIB, 1: 40 * GIB}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda d: (free[d.index or 0], 80 * GIB))


def test_trainer_cpu_keeps_a_local_sweep_on_the_cpu_where_gpus_are_visible(two_gpus):
    assert local_devices(None, "cpu") == ["cpu"]
    assert local_devices(None, "auto") == ["cuda:0", "cuda:1"]


def test_the_population_launcher_trains_a_trainer_cpu_sweep_on_the_cpu(two_gpus):
    launcher = PopulationLauncher(executor="local")
    assert launcher._place([compose(TINY)]).devices == ["cpu"]
    assert launcher._place([compose(["trainer=default"])]).devices == ["cuda:0", "cuda:1"]


def test_devices_of_another_kind_than_the_trainer_asks_for_are_refused(two_gpus):
    with pytest.raises(ValueError, match="must be cpu devices for trainer.accelerator=cpu"):
        local_devices(["cuda:0"], "cpu")
    with pytest.raises(ValueError, match="one kind"):
        local_devices(["cuda:0", "cpu"], "auto")


def test_a_gpu_trainer_on_a_machine_without_a_gpu_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(ValueError, match="asks for a GPU, but none is visible"):
        local_devices(None, "gpu")


def test_the_kind_of_device_of_a_sweep_follows_its_trainer_and_its_jobs_gpus(two_gpus):
    slurm = {"executor": "slurm", "slurm": {"gpus_per_node": 1}}
    assert sweep_device_kind(slurm, "auto") == "cuda"
    assert sweep_device_kind(slurm, "cpu") == "cpu"
    assert sweep_device_kind({"executor": "slurm", "slurm": {"gpus_per_node": 0}}, "auto") == "cpu"
    assert sweep_device_kind({"executor": "local", "devices": ["cpu"]}, "auto") == "cpu"
    assert sweep_device_kind({}, "auto") == "cuda"  # Hydra's basic launcher, here
    assert trainer_device("gpu", [1]) == "cuda:1" and trainer_device("cpu", 1) == "cpu"


def test_population_size_comes_from_the_free_memory_each_worker_gets(two_gpus):
    fit = MemoryFit(member_mib=1024, margin=0.25)
    # The smaller free memory decides: 40 GiB on GPU 1, three quarters of it used.
    assert capacity("cuda", "local", ["cuda:0", "cuda:1"], {}, fit) == 30
    # Two workers on GPU 0 share its 60 GiB.
    assert capacity("cuda", "local", ["cuda:0", "cuda:0"], {}, fit) == 22
    assert capacity("cuda", "local", ["cuda:0"], {}, fit) == 45
    # A Slurm job's GPU, which the login node cannot see, has the configured memory.
    assert capacity("cuda", "slurm", [], {"gpu_memory_gib": 80}, fit) == 60


def test_jobs_of_a_sweep_asking_for_two_kinds_of_device_are_refused(two_gpus):
    launcher = {"executor": "local", "devices": None, "slurm": {}}
    with pytest.raises(ValueError, match="one kind of device"):
        place(launcher, {"cpu", "gpu"}, None, MemoryFit(39, 0.25))


def test_pinning_overrides_the_tf32_environment_variable():
    code = (
        "import torch; before = torch.get_float32_matmul_precision(); "
        "from lottery_init.devices import pin_precision; pin_precision(False); "
        "print(before, torch.get_float32_matmul_precision(), "
        "torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)"
    )
    env = os.environ | {"TORCH_ALLOW_TF32_CUBLAS_OVERRIDE": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.split() == ["high", "highest", "False", "False"], done.stderr


def test_tf32_when_asked_for_is_recorded():
    try:
        pin_precision(True)
        record = device_record("cpu")
        assert record["tf32"] is True and record["matmul_precision"] == "high"
    finally:
        pin_precision(False)
    assert device_record("cpu")["tf32"] is False


def test_a_run_records_its_device_precision_and_population_size(tmp_path, mnist_raw):
    torch.set_float32_matmul_precision("high")  # as other code or the environment might
    info = train(compose([*TINY, "epochs=1", "prune.every_n_epochs=1"]), tmp_path)
    assert info == read_run(tmp_path)
    assert info["device"]["type"] == "cpu" and info["device"]["device"] == "cpu"
    assert info["device"]["matmul_precision"] == "highest" and info["device"]["tf32"] is False
    assert info["population"]["size"] == 1 and info["config"]["tf32"] is False


def test_mixed_precision_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match="trainer.precision must be 32"):
        validate([compose(["+trainer.precision=16-mixed"])])
    validate([compose(["+trainer.precision=32-true"])])


def test_an_unknown_accelerator_is_refused():
    with pytest.raises(ValueError, match="trainer.accelerator must be one of"):
        validate([compose(["trainer.accelerator=mps"])])


def test_a_folder_trained_on_another_kind_of_device_is_refused(tmp_path):
    cfg = compose(TINY)
    info = {"config": OmegaConf.to_container(cfg, resolve=True), "device": {"type": "cpu"}}
    (tmp_path / "run.json").write_text(json.dumps(info))
    assert conflict(tmp_path, cfg, "cpu") is None
    reason = conflict(tmp_path, cfg, "cuda")
    assert "trained on cpu and this sweep trains on cuda" in reason


def test_growing_a_cpu_sweep_on_a_gpu_stops_before_any_training(tmp_path):
    # A run the sweep trained on the CPU (conflict reads the device before the config).
    (tmp_path / "xavier_normal_s0").mkdir()
    record = {"config": {}, "device": {"type": "cpu"}, "status": "done"}
    (tmp_path / "xavier_normal_s0" / "run.json").write_text(json.dumps(record))
    args = ["data.train_size=600", "data.test_size=200", "epochs=1", "prune.every_n_epochs=1"]
    args += ["seed=0,1", "report=false", f"hydra.sweep.dir={tmp_path}"]
    args += ["hydra.launcher.devices=[cuda:0]"]  # the same sweep, grown on a GPU
    done = subprocess.run(
        [sys.executable, "-m", "lottery_init.train", "--multirun", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "trained on cpu and this sweep trains on cuda" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "xavier_normal_s1").exists()


def test_runs_with_and_without_tf32_never_share_a_folder(tmp_path):
    cfg = compose(TINY)
    info = {"config": OmegaConf.to_container(cfg, resolve=True), "device": {"type": "cuda"}}
    (tmp_path / "run.json").write_text(json.dumps(info))
    assert "tf32: False there, True now" in conflict(
        tmp_path, compose([*TINY, "tf32=true"]), "cuda"
    )
