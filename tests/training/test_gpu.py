"""The CUDA path: the same science as on the CPU, resume across devices, the controls, two
workers on one GPU, and what `run.json` records of the device.

Run with `make test-gpu` on a machine with a GPU; elsewhere these tests are skipped. The tests
that compare numbers record their largest differences through the `measured` fixture, and
`make test-gpu` prints them next to the tolerances, so the first run on a new GPU shows how far
each tolerance could be tightened."""

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from helpers import composed, rows, started, wait_for_rows

from lottery_init.config.compose import compose
from lottery_init.config.paths import ROOT
from lottery_init.pruning.masks import unpack_mask
from lottery_init.runs.layout import LAST
from lottery_init.runs.results import read_metrics, read_run
from lottery_init.sweep.cluster import running, submission
from lottery_init.sweep.workers import Population, trainer_kwargs
from lottery_init.training.checkpoints import load
from lottery_init.training.population import train_population

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (make test-gpu)"),
]
GPU = "cuda:0"
SMALL = ["data.train_size=600", "data.test_size=200", "+trainer.enable_progress_bar=false"]
# Three epochs of ten steps, a prune and rewind after each of the first two.
SHORT = [*SMALL, "epochs=3", "prune.every_n_epochs=1"]
SEEDS = (0, 1, 2)
# A population of 3 through the real entry point, on the GPU, with a prune and rewind.
CUDA_RUN = [*SMALL, "trainer.accelerator=gpu", "epochs=2", "prune.every_n_epochs=1"]


# The checkpoint keys of the pruning callbacks' states.
PRUNING = ("IterativeMagnitudePruning", "PruningAtInit")


def configs(*overrides: str) -> list:
    """The configs of a population of 3 (seeds 0, 1, 2) on the `SHORT` schedule."""
    return [compose([*SHORT, *overrides, f"seed={seed}"]) for seed in SEEDS]


def fit(cfgs: list, folder: Path, device: str, callbacks: Sequence[pl.Callback] = ()) -> None:
    """Train (or resume) the population in `folder` on `device`: a run folder per seed, and
    the population's checkpoint in `folder/ckpt`."""
    dirs = [folder / str(seed) for seed in SEEDS]
    ckpt = folder / "ckpt"
    train_population(cfgs, dirs, checkpoint_dir=ckpt, callbacks=callbacks, **trainer_kwargs(device))


def results(folder: Path) -> tuple[list[list[dict]], list]:
    """Each member's metrics rows and the population's final masks, on the CPU."""
    # `load` maps the checkpoint to the CPU, so masks from either device compare directly.
    callbacks = load(folder / "ckpt" / LAST)["callbacks"]
    state = next(c for name, c in callbacks.items() if name in PRUNING)
    masks = [unpack_mask(m, s) for m, s in zip(state["masks"], state["mask_shapes"], strict=True)]
    return [read_metrics(folder / str(seed)) for seed in SEEDS], masks


def trained(device: str, tmp_path, *overrides: str) -> tuple[list[list[dict]], list]:
    """Train a population of 3 on `device`: each member's metrics rows and the final masks."""
    fit(configs(*overrides), tmp_path / device, device)
    return results(tmp_path / device)


def differences(a: list[dict], b: list[dict], kind: str) -> list[float]:
    """Differences in every `*_loss` or `*_acc` column (train, test, validation) between the
    rows of two runs, epoch by epoch; the callers check afterwards that the epochs agree."""
    keys = [key for key in b[0] if key.endswith(f"_{kind}")] if b else []
    return [x[k] - y[k] for x, y in zip(a, b, strict=False) for k in keys]


def assert_same_science(gpu: list[list[dict]], cpu: list[list[dict]], measured) -> None:
    """Equal pruning counts; losses and accuracies (validation too, where the runs hold one
    out) apart by float rounding only."""
    # 30 Adam steps amplify summation-order differences to about 1e-5 in the loss; an
    # accuracy may move by one or two of the 200 test images.
    for kind, tolerance in (("loss", 1e-3), ("acc", 0.01)):
        diffs = [d for g, c in zip(gpu, cpu, strict=True) for d in differences(g, c, kind)]
        assert measured(kind, diffs, tolerance) <= tolerance, kind
    # Compared after recording, so that a failing test still reports its numbers.
    counts = [[(r["epoch"], r["round"], r["remaining"]) for r in member] for member in gpu]
    assert counts == [[(r["epoch"], r["round"], r["remaining"]) for r in member] for member in cpu]


def mismatch(a: list, b: list) -> float:
    """Fraction of mask entries on which two sets of masks disagree."""
    return sum(int((x != y).sum()) for x, y in zip(a, b, strict=True)) / sum(x.numel() for x in a)


def assert_masks_agree(gpu: list, cpu: list, measured, tolerance: float = 1e-4) -> None:
    """Masks that disagree on at most `tolerance` of their entries."""
    # Magnitudes differ by float rounding, which can swap a pair of weights at the cut.
    largest = measured("mask mismatch", [mismatch(gpu, cpu)], tolerance)
    assert largest <= tolerance


def test_a_population_on_cuda_prunes_and_learns_as_on_the_cpu(tmp_path, mnist_raw, measured):
    gpu, gpu_masks = trained(GPU, tmp_path)
    cpu, cpu_masks = trained("cpu", tmp_path)
    assert_same_science(gpu, cpu, measured)
    assert_masks_agree(gpu_masks, cpu_masks, measured)


def test_random_pruning_on_cuda_draws_the_cpu_masks_exactly(tmp_path, mnist_raw, measured):
    _, gpu_masks = trained(GPU, tmp_path, "prune=imp_random")
    _, cpu_masks = trained("cpu", tmp_path, "prune=imp_random")
    # The draws are made on the CPU from each member's seed, so no rounding can enter them.
    assert_masks_agree(gpu_masks, cpu_masks, measured, tolerance=0)


def test_the_reinit_control_on_cuda_matches_the_cpu(tmp_path, mnist_raw, measured):
    gpu, gpu_masks = trained(GPU, tmp_path, "prune=imp_reinit")
    cpu, cpu_masks = trained("cpu", tmp_path, "prune=imp_reinit")
    assert_same_science(gpu, cpu, measured)
    assert_masks_agree(gpu_masks, cpu_masks, measured)


# The other pruning settings, each of which takes a code path of its own on the device.
SETTINGS = {
    "late_rewinding": ["prune.rewind=epoch_k", "prune.rewind_epoch=1"],
    "magnitude_increase": ["prune.method=magnitude_increase"],
    "global_scope": ["prune.scope=global"],
    "validation_split": ["data.val_size=100"],
}


@pytest.mark.parametrize("overrides", SETTINGS.values(), ids=SETTINGS.keys())
def test_a_pruning_setting_on_cuda_matches_the_cpu(tmp_path, mnist_raw, measured, overrides):
    gpu, gpu_masks = trained(GPU, tmp_path, *overrides)
    cpu, cpu_masks = trained("cpu", tmp_path, *overrides)
    assert_same_science(gpu, cpu, measured)
    assert_masks_agree(gpu_masks, cpu_masks, measured)


# Pruning at initialization: scored on the device, then three epochs of one fixed mask.
AT_INIT = {
    "snip": ["prune=snip"],
    "grasp": ["prune=grasp"],
    "synflow": ["prune=synflow"],
    "shuffled_magnitude": ["prune=magnitude_at_init", "prune.shuffle=true"],
}


@pytest.mark.parametrize("overrides", AT_INIT.values(), ids=AT_INIT.keys())
def test_pruning_at_init_on_cuda_matches_the_cpu(tmp_path, mnist_raw, measured, overrides):
    one_round = [*overrides, "prune.every_n_epochs=3"]
    gpu, gpu_masks = trained(GPU, tmp_path, *one_round)
    cpu, cpu_masks = trained("cpu", tmp_path, *one_round)
    assert_same_science(gpu, cpu, measured)
    # Scores differ by rounding (GraSP's Hessian-gradient products most), which can swap the
    # weights at the cut: 1e-3 of the entries at most.
    assert_masks_agree(gpu_masks, cpu_masks, measured, tolerance=1e-3)


def test_a_members_numbers_on_cuda_do_not_depend_on_its_companions(tmp_path, mnist_raw, measured):
    jobs = [("xavier_normal", 1), ("kaiming_uniform", 1), ("xavier_uniform", 2)]
    jobs += [("kaiming_normal", 3)]
    settings = [*SMALL, "epochs=4", "prune.every_n_epochs=2"]

    def first_member(size: int) -> list[dict]:
        cfgs = [compose([*settings, f"init={i}", f"seed={s}"]) for i, s in jobs[:size]]
        dirs = [tmp_path / f"P{size}" / f"{i}_s{s}" for i, s in jobs[:size]]
        train_population(cfgs, dirs, **trainer_kwargs(GPU))
        return read_metrics(dirs[0])

    pair, four = first_member(2), first_member(4)
    # The tolerance of the CPU test: a member's maths must not see how many companions it has,
    # even if the GPU's batched matrix products might pick kernels by the population's size.
    for kind in ("loss", "acc"):
        assert measured(kind, differences(pair, four, kind), 1e-6) <= 1e-6, kind
    assert [r["remaining"] for r in pair] == [r["remaining"] for r in four]


class StopAfter(pl.Callback):
    """Stops the fit after `epochs` epochs, as a stop signal does: with
    `checkpoint.every_seconds=0` that epoch's checkpoint is on disk, and the runs stay
    `running`, to be resumed."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch + 1 == self.epochs:
            trainer.should_stop = True


# Two rounds of two epochs; the stop after epoch 3 falls mid-round, after a prune, so the
# checkpoint carries masks, Adam's state and each member's data order across devices.
RESUMED = ["epochs=4", "prune.every_n_epochs=2", "checkpoint.every_seconds=0"]


@pytest.mark.parametrize(
    ("first", "then"), [(GPU, "cpu"), ("cpu", GPU)], ids=["cuda_then_cpu", "cpu_then_cuda"]
)
def test_a_population_stopped_mid_round_resumes_on_the_other_device_to_the_same_numbers(
    tmp_path, mnist_raw, measured, caplog, first, then
):
    whole, whole_masks = trained(first, tmp_path, *RESUMED)
    stopped = tmp_path / "stopped"
    fit(configs(*RESUMED), stopped, first, callbacks=[StopAfter(3)])
    assert load(stopped / "ckpt" / LAST)["epoch"] == 2
    assert all(read_run(stopped / str(seed))["status"] == "running" for seed in SEEDS)
    caplog.set_level(logging.INFO, logger="lottery_init.training.population")
    fit(configs(*RESUMED), stopped, then)
    # Without this, a checkpoint that failed to load would start afresh and still pass.
    assert "after 3 epochs" in caplog.text
    resumed, resumed_masks = results(stopped)
    assert_same_science(resumed, whole, measured)
    assert_masks_agree(resumed_masks, whole_masks, measured)
    assert all(read_run(stopped / str(seed))["status"] == "done" for seed in SEEDS)
    # run.json records the device of the latest start: the resumed epochs ran where they were sent.
    assert {read_run(stopped / str(seed))["device"]["device"] for seed in SEEDS} == {then}


def test_a_run_on_cuda_killed_mid_round_resumes_to_the_uninterrupted_numbers(tmp_path, mnist_raw):
    args = [*SMALL, "trainer.accelerator=gpu", "epochs=6", "prune.every_n_epochs=2"]
    args += ["data.train_size=6000", "checkpoint.every_seconds=0"]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    started(whole, args).wait(timeout=300)
    process = started(killed, args)
    wait_for_rows(process, killed, 4)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert started(killed, args).wait(timeout=300) == 0
    assert rows(killed) == rows(whole) and read_run(killed)["status"] == "done"


def test_the_population_launcher_runs_two_workers_on_one_gpu(tmp_path, mnist_raw):
    args = [*SMALL, "init=xavier_normal,kaiming_uniform", "seed=0,1", "epochs=2"]
    args += ["prune.every_n_epochs=1", "hydra/launcher=population"]
    args += ["hydra.launcher.devices=[cuda:0,cuda:0]", f"hydra.sweep.dir={tmp_path}"]
    cmd = [sys.executable, "-m", "lottery_init.train", "--multirun", *args]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    infos = [read_run(p.parent) for p in tmp_path.glob("*/run.json")]
    assert len(infos) == 4 and all(info["status"] == "done" for info in infos)
    assert len({info["population"]["checkpoint_dir"] for info in infos}) == 2
    # Both workers, and so both populations, trained on the GPU they were given.
    assert {(info["device"]["type"], info["device"]["device"]) for info in infos} == {
        ("cuda", "cuda:0")
    }
    assert all(info["population"]["size"] == len(info["population"]["runs"]) for info in infos)


def cuda_run(run_dir: Path, **env: str) -> Path:
    """`python -m lottery_init.train` on the GPU into `run_dir`, with `env` added to its
    environment; the run's folder."""
    cmd = [sys.executable, "-m", "lottery_init.train", *CUDA_RUN, f"hydra.run.dir={run_dir}"]
    # Only the child gets `env`: torch reads the TF32 override once per process, and this
    # process's later tests must not train under it.
    done = subprocess.run(
        cmd, cwd=ROOT, env=os.environ | env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return run_dir


@pytest.fixture(scope="module")
def overridden(tmp_path_factory, mnist_raw) -> Path:
    """A run started with TF32 forced on for cuBLAS from outside (one process for both tests
    that use it)."""
    folder = tmp_path_factory.mktemp("tf32") / "overridden"
    return cuda_run(folder, TORCH_ALLOW_TF32_CUBLAS_OVERRIDE="1")


def test_run_json_records_the_gpu_and_full_float32_precision_despite_the_tf32_override(
    overridden,
):
    device = read_run(overridden)["device"]
    assert device["type"] == "cuda" and device["device"] == GPU and device["name"]
    assert device["matmul_precision"] == "highest" and device["tf32"] is False


def test_the_tf32_override_does_not_change_a_cuda_runs_numbers(tmp_path, overridden, measured):
    plain = read_metrics(cuda_run(tmp_path / "plain"))
    forced = read_metrics(overridden)
    # The same code on the same GPU: equal, unless TF32 (a 10-bit mantissa, about 1e-4 off in
    # these losses) entered the matrix products.
    for kind in ("loss", "acc"):
        assert measured(kind, differences(forced, plain, kind), 1e-6) <= 1e-6, kind
    assert len(forced) == len(plain) == 2


def test_a_submitit_job_trains_its_population_on_the_gpu_it_gets(tmp_path, mnist_raw):
    cfgs = [compose([*SHORT, f"seed={seed}"]) for seed in (0, 1)]
    dirs = [tmp_path / f"s{seed}" for seed in (0, 1)]
    for run_dir in dirs:
        run_dir.mkdir()
    population = Population("gpu", cfgs, dirs, [d / "train.log" for d in dirs], tmp_path / "ckpt")
    slurm = composed("hydra/launcher=population").hydra.launcher.slurm  # one GPU per job
    ex = submission.executor("submitit_local", tmp_path / "submitit" / "%j", slurm)
    [outcome] = running.wait(submission.submit(ex, [population], cpus=4), ["gpu"])
    assert [info["status"] for info in outcome] == ["done", "done"]
    assert "gpu on cuda:0: s0, s1" in (dirs[0] / "train.log").read_text()
