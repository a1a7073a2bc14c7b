"""The CUDA path: the same science as on the CPU, resume, controls, two workers on one GPU.

Run with `make test-gpu` on a machine with a GPU; elsewhere these tests are skipped."""

import signal
import subprocess
import sys

import pytest
import torch
from helpers import composed, rows, started, wait_for_rows

from lottery_init.checkpoints import LAST
from lottery_init.cluster import running, submission
from lottery_init.config import ROOT, compose
from lottery_init.masks import unpack_mask
from lottery_init.population import Population, trainer_kwargs
from lottery_init.results import read_metrics, read_run
from lottery_init.train import train_population

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (make test-gpu)"),
]
SMALL = ["data.train_size=600", "data.test_size=200", "+trainer.enable_progress_bar=false"]
# Three epochs of ten steps, a prune and rewind after each of the first two.
SHORT = [*SMALL, "epochs=3", "prune.every_n_epochs=1"]


def trained(device: str, tmp_path, *overrides: str) -> tuple[list[list[dict]], list]:
    """Train a population of 3 on `device`: each member's metrics rows and the final masks."""
    cfgs = [compose([*SHORT, *overrides, f"seed={seed}"]) for seed in (0, 1, 2)]
    dirs = [tmp_path / device / str(seed) for seed in (0, 1, 2)]
    ckpt = tmp_path / device / "ckpt"
    train_population(cfgs, dirs, checkpoint_dir=ckpt, **trainer_kwargs(device))
    state = torch.load(ckpt / LAST, weights_only=True)["callbacks"]["IterativeMagnitudePruning"]
    masks = [unpack_mask(m, s) for m, s in zip(state["masks"], state["mask_shapes"], strict=True)]
    return [read_metrics(d) for d in dirs], masks


def assert_same_science(gpu: list[list[dict]], cpu: list[list[dict]]) -> None:
    """Equal pruning counts; losses and accuracies apart by float rounding only."""
    for gpu_rows, cpu_rows in zip(gpu, cpu, strict=True):
        for g, c in zip(gpu_rows, cpu_rows, strict=True):
            assert [g[k] for k in ("epoch", "round", "remaining")] == [
                c[k] for k in ("epoch", "round", "remaining")
            ]
            # 30 Adam steps amplify summation-order differences to about 1e-5 in the loss; an
            # accuracy may move by one or two of the 200 test images.
            for key in ("train_loss", "test_loss"):
                assert g[key] == pytest.approx(c[key], abs=1e-3)
            for key in ("train_acc", "test_acc"):
                assert g[key] == pytest.approx(c[key], abs=0.01)


def mismatch(a: list, b: list) -> float:
    """Fraction of mask entries on which two sets of masks disagree."""
    return sum(int((x != y).sum()) for x, y in zip(a, b, strict=True)) / sum(x.numel() for x in a)


def test_a_population_on_cuda_prunes_and_learns_as_on_the_cpu(tmp_path, mnist_raw):
    gpu, gpu_masks = trained("cuda:0", tmp_path)
    cpu, cpu_masks = trained("cpu", tmp_path)
    assert_same_science(gpu, cpu)
    # Magnitudes differ by float rounding, which can swap a pair of weights at the cut.
    assert mismatch(gpu_masks, cpu_masks) <= 1e-4


def test_random_pruning_on_cuda_draws_the_cpu_masks_exactly(tmp_path, mnist_raw):
    _, gpu_masks = trained("cuda:0", tmp_path, "prune=imp_random")
    _, cpu_masks = trained("cpu", tmp_path, "prune=imp_random")
    assert mismatch(gpu_masks, cpu_masks) == 0


def test_the_reinit_control_on_cuda_matches_the_cpu(tmp_path, mnist_raw):
    gpu, gpu_masks = trained("cuda:0", tmp_path, "prune=imp_reinit")
    cpu, cpu_masks = trained("cpu", tmp_path, "prune=imp_reinit")
    assert_same_science(gpu, cpu)
    assert mismatch(gpu_masks, cpu_masks) <= 1e-4


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
