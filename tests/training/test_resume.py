"""Nothing lost: a killed run resumes to the same numbers, finished runs are left alone."""

import signal
import subprocess
import sys

import pytorch_lightning as pl
import torch
from helpers import rows, started, wait_for_rows
from pytorch_lightning.plugins.environments import LightningEnvironment, SLURMEnvironment

from lottery_init.config.compose import compose
from lottery_init.config.paths import ROOT
from lottery_init.runs.layout import LAST
from lottery_init.runs.masks_file import load_masks
from lottery_init.runs.results import RunWriter, read_run, read_run_or_none
from lottery_init.training.checkpoints import cluster_environment
from lottery_init.training.population import train, train_population

# Three rounds of two epochs on 6,000 images: long enough to be killed in the middle.
RUN = ["data.train_size=6000", "data.test_size=500", "trainer=cpu", "epochs=6"]
RUN += ["prune.every_n_epochs=2", "+trainer.enable_progress_bar=false"]


def args(every_seconds: float = 0) -> list[str]:
    return [*RUN, f"checkpoint.every_seconds={every_seconds}"]


def command(run_dir, every_seconds: float = 0) -> list[str]:
    run = [*args(every_seconds), f"hydra.run.dir={run_dir}"]
    return [sys.executable, "-m", "lottery_init.train", *run]


def test_a_run_killed_mid_round_resumes_to_the_uninterrupted_numbers(tmp_path, mnist_raw):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(command(whole), cwd=ROOT, check=True, capture_output=True, timeout=300)
    process = started(killed, args())
    # Kill as soon as epoch 2 (the first of round 1) is on disk.
    wait_for_rows(process, killed, 4)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert read_run(killed)["status"] == "running" and len(rows(killed)) < 7
    again = subprocess.run(command(killed), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Resuming from" in again.stdout and "last.ckpt after" in again.stdout
    assert rows(killed) == rows(whole) and len(rows(whole)) == 7
    assert read_run(killed)["rounds"] == read_run(whole)["rounds"]
    assert read_run(killed)["status"] == "done"
    killed_masks, whole_masks = load_masks(killed), load_masks(whole)
    assert list(killed_masks) == list(whole_masks) == [0, 1, 2]
    for r in whole_masks:
        assert all((a == b).all() for a, b in zip(killed_masks[r], whole_masks[r], strict=True))


def test_sigterm_checkpoints_after_the_epoch_exits_cleanly_and_resumes_exactly(tmp_path, mnist_raw):
    whole, stopped = tmp_path / "whole", tmp_path / "stopped"
    subprocess.run(command(whole), cwd=ROOT, check=True, capture_output=True, timeout=300)
    # No checkpoint falls due by time, so the only one before the end is the signal's.
    process = started(stopped, args(every_seconds=3600))
    wait_for_rows(process, stopped, 3)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=300) == 128 + signal.SIGTERM
    output = (tmp_path / "stopped.out").read_text()
    assert "Traceback" not in output and "run the same command to resume" in output
    epochs_done = torch.load(stopped / "checkpoints" / LAST, weights_only=True)["epoch"] + 1
    assert len(rows(stopped)) == epochs_done + 1 < 7
    assert read_run(stopped)["status"] == "running"
    again = subprocess.run(command(stopped), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"after {epochs_done} epochs" in again.stdout
    assert rows(stopped) == rows(whole) and read_run(stopped)["status"] == "done"


class Payload:
    """Unpickling this creates the file `path`: what a planted checkpoint could do."""

    def __init__(self, path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def test_a_checkpoint_holding_pickled_code_is_refused_unrun_and_the_run_starts_afresh(
    tmp_path, mnist_raw, caplog
):
    cfg = compose([*RUN, "epochs=2", "prune.every_n_epochs=1"])
    # The payload is real: an unsafe load runs it.
    torch.save({"epoch": 0, "x": Payload(tmp_path / "proof")}, tmp_path / "proof.ckpt")
    torch.load(tmp_path / "proof.ckpt", weights_only=False)
    assert (tmp_path / "proof").exists()
    planted = tmp_path / "planted"
    (planted / "checkpoints").mkdir(parents=True)
    torch.save({"epoch": 0, "x": Payload(tmp_path / "pwned")}, planted / "checkpoints" / LAST)
    train(cfg, planted)
    train(cfg, tmp_path / "whole")
    assert not (tmp_path / "pwned").exists()
    assert f"{planted / 'checkpoints' / LAST} was not loaded" in caplog.text
    assert rows(planted) == rows(tmp_path / "whole")


def test_checkpoints_follow_the_cadence_and_always_end_the_fit(tmp_path, mnist_raw):
    def written(every_seconds: float) -> list[int]:
        cfg = compose([*RUN, "epochs=3", "prune.every_n_epochs=1"])
        cfg.checkpoint.every_seconds = every_seconds
        ckpt = tmp_path / str(every_seconds) / "checkpoints" / LAST
        stamps = []

        class Probe(pl.Callback):
            def on_train_epoch_end(self, trainer, pl_module) -> None:
                stamps.append(torch.load(ckpt)["epoch"] if ckpt.exists() else None)

        train_population([cfg], [ckpt.parents[1]], callbacks=[Probe()])
        return stamps

    assert written(3600) == [None, None, 2]
    assert written(0) == [0, 1, 2]


def test_a_damaged_checkpoint_is_not_loaded_and_the_run_starts_afresh(tmp_path, mnist_raw, caplog):
    whole, damaged = tmp_path / "whole", tmp_path / "damaged"
    cfg = compose([*RUN, "epochs=2", "prune.every_n_epochs=1"])
    train(cfg, whole)
    (damaged / "checkpoints").mkdir(parents=True)
    (damaged / "checkpoints" / "last.ckpt").write_bytes(b"half of a checkpoint")
    (damaged / "metrics.csv").write_text("epoch,round\n0,0\n")
    train(cfg, damaged)
    assert "damaged" in caplog.text and "starting afresh" in caplog.text
    assert rows(damaged) == rows(whole)


def test_a_finished_run_is_not_trained_again(tmp_path, mnist_raw):
    cfg = compose([*RUN, "epochs=1", "prune.every_n_epochs=1"])
    first = train(cfg, tmp_path)
    written = (tmp_path / "metrics.csv").stat().st_mtime_ns
    assert train(cfg, tmp_path) == first
    assert (tmp_path / "metrics.csv").stat().st_mtime_ns == written


def test_a_folder_without_run_json_reads_as_no_run_and_one_with_it_as_its_run(tmp_path):
    assert read_run_or_none(tmp_path) is None
    writer = RunWriter(tmp_path, {"init": "xavier_normal", "seed": 3})
    assert read_run_or_none(tmp_path) == writer.info == read_run(tmp_path)


def test_the_same_config_and_seed_give_identical_metrics(tmp_path, mnist_raw):
    cfg = compose([*RUN, "epochs=2", "prune.every_n_epochs=1", "seed=5"])
    train(cfg, tmp_path / "a")
    train(cfg, tmp_path / "b")
    assert rows(tmp_path / "a") == rows(tmp_path / "b")


def test_run_json_records_the_code_version(tmp_path, mnist_raw):
    info = train(compose([*RUN, "epochs=1", "prune.every_n_epochs=1"]), tmp_path)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    assert info["git"]["commit"] == head.stdout.strip() and len(head.stdout.strip()) == 40
    assert set(info["versions"]) >= {"torch", "pytorch_lightning", "hydra"}


def test_a_member_that_diverged_before_the_checkpoint_stays_failed_on_resume(tmp_path):
    row = {"epoch": 0, "round": 0, "remaining": 1.0, "train_loss": float("nan"), "seconds": 1.0}
    writer = RunWriter(tmp_path, {"init": "xavier_normal", "seed": 0})
    writer.epoch(row | {"train_acc": 0.1, "test_loss": float("nan"), "test_acc": 0.1})
    writer.close("failed", "loss is not finite in epoch 0", epoch=0)
    before = (tmp_path / "run.json").read_text(), (tmp_path / "metrics.csv").read_text()
    resumed = RunWriter(tmp_path, {"init": "xavier_normal", "seed": 0}, resume_epoch=3)
    assert resumed.closed and resumed.info["status"] == "failed"
    assert ((tmp_path / "run.json").read_text(), (tmp_path / "metrics.csv").read_text()) == before


def test_resuming_drops_rows_and_rounds_after_the_checkpoint(tmp_path):
    writer = RunWriter(tmp_path, {"init": "xavier_normal", "seed": 0})
    for epoch in range(4):
        row = {"epoch": epoch, "round": epoch // 2, "remaining": 1.0, "seconds": 0.5}
        writer.epoch(row | {"train_loss": 1.0, "train_acc": 0.5, "test_loss": 1.0, "test_acc": 0.5})
        if epoch % 2 == 1:
            writer.end_round(
                {"epoch": epoch, "round": epoch // 2, "remaining": 1.0, "test_acc": 0.5},
                [torch.ones(3, 5, dtype=torch.bool), torch.zeros(2, 3, dtype=torch.bool)],
            )
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert list(load_masks(tmp_path)) == [0, 1]
    # Three epochs done (0, 1, 2): round 1 ended in epoch 3, so only round 0 stays.
    resumed = RunWriter(tmp_path, {"init": "xavier_normal", "seed": 0}, resume_epoch=3)
    assert (tmp_path / "metrics.csv").read_text().splitlines() == lines[:4]
    assert [r["round"] for r in resumed.info["rounds"]] == [0]
    assert list(load_masks(tmp_path)) == [0]


def test_lightning_never_requeues_a_slurm_job_itself(monkeypatch):
    # What srun sets in a job step (submitit's jobs are launched so).
    monkeypatch.setenv("SLURM_NTASKS", "1")
    monkeypatch.setenv("SLURM_JOB_NAME", "lottery_init")
    inside = cluster_environment()
    assert isinstance(inside, SLURMEnvironment) and inside.auto_requeue is False
    monkeypatch.delenv("SLURM_NTASKS")
    assert isinstance(cluster_environment(), LightningEnvironment)
