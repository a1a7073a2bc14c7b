"""Populations as submitit jobs: requeued after a time limit, failures reported, Slurm scripts."""

import logging
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import TINY, composed, rows
from hydra.errors import CompactHydraException
from hydra.utils import instantiate
from omegaconf import OmegaConf

from lottery_init.config.compose import compose
from lottery_init.config.paths import ROOT
from lottery_init.sweep.cluster import outcomes, running, submission
from lottery_init.sweep.failures import JobFailed
from lottery_init.sweep.packing import MemoryFit, members_that_fit
from lottery_init.sweep.workers import Population

# Twelve epochs: ten still to go when a test signals a job after its second, about a second.
SETTINGS = [*TINY, "epochs=12", "prune.every_n_epochs=2", "checkpoint.every_seconds=1000"]


def slurm_settings(*overrides: str) -> OmegaConf:
    """The population launcher's `slurm` node, as configured, with `overrides`."""
    cfg = composed("hydra/launcher=population", *overrides)
    return cfg.hydra.launcher.slurm


def population(root: Path, name: str, seeds: tuple[int, ...] = (0, 1)) -> Population:
    """A small population of `seeds`, with run folders `root/name/s<seed>`."""
    cfgs = [compose([*SETTINGS, f"seed={seed}"]) for seed in seeds]
    dirs = [root / name / f"s{seed}" for seed in seeds]
    for run_dir in dirs:
        # The launcher's Hydra job setup makes each run folder before training.
        run_dir.mkdir(parents=True, exist_ok=True)
    logs = [d / "train.log" for d in dirs]
    return Population(name, cfgs, dirs, logs, root / name / "checkpoint")


def local_jobs(root: Path, populations: list[Population]) -> list:
    """`populations` submitted as submitit-local jobs on one CPU thread each."""
    settings = slurm_settings("hydra.launcher.slurm.gpus_per_node=0")
    ex = submission.executor("submitit_local", root / "submitit" / "%j", settings)
    return submission.submit(ex, populations, cpus=1)


def task_pid(job) -> int:
    """The process a local job's controller started: what Slurm would signal."""
    return int(Path(f"/proc/{job.job_id}/task/{job.job_id}/children").read_text().split()[0])


def wait_for_epochs(job, run_dir: Path, epochs: int) -> None:
    """Return once `epochs` epochs of `run_dir` are on disk."""
    deadline = time.monotonic() + 300
    while not (run_dir / "metrics.csv").exists() or len(rows(run_dir)) < epochs + 1:
        assert not job.done() and time.monotonic() < deadline, job.stderr()
        time.sleep(0.01)


def test_a_timed_out_job_is_requeued_and_resumes_to_the_numbers_of_an_uninterrupted_one(
    tmp_path, mnist_raw, caplog
):
    caplog.set_level(logging.INFO)
    whole, cut = population(tmp_path, "whole"), population(tmp_path, "cut")
    jobs = local_jobs(tmp_path, [whole, cut])
    wait_for_epochs(jobs[1], cut.run_dirs[0], 2)
    # What Slurm (and submitit's local controller) sends before a job's time limit.
    os.kill(task_pid(jobs[1]), signal.SIGUSR2)
    outcomes = running.wait(jobs, ["whole", "cut"])
    assert [o[0]["status"] for o in outcomes] == ["done", "done"]
    assert "cut (job" in caplog.text and "requeued after a time limit" in caplog.text
    resumed = cut.log_files[0].read_text()
    assert "Received SIGUSR2" in resumed and "Resuming from" in resumed
    for a, b in zip(whole.run_dirs, cut.run_dirs, strict=True):
        assert len(rows(b)) == 13 and rows(a) == rows(b)


def test_a_failing_population_is_reported_with_its_error_and_the_others_finish(
    tmp_path, mnist_raw, caplog
):
    caplog.set_level(logging.INFO)
    broken, fine = population(tmp_path, "broken", (0,)), population(tmp_path, "fine", (0,))
    (broken.run_dirs[0] / "run.json").mkdir()  # a folder where the run's file must go
    outcomes = running.wait(local_jobs(tmp_path, [broken, fine]), ["broken", "fine"])
    assert isinstance(outcomes[0], JobFailed)
    assert str(outcomes[0]).startswith("broken failed as job")
    assert "IsADirectoryError: [Errno 21]" in str(outcomes[0])
    assert outcomes[1][0]["status"] == "done"
    # The failure's log line ends with the end of the job's stderr: the traceback's last line.
    failure = caplog.text.split("broken (job")[-1]
    assert "failed; the end of" in failure and "IsADirectoryError: [Errno 21]" in failure


def test_jobs_that_ended_without_a_result_file_wait_for_it_together(tmp_path, monkeypatch):
    now = [100.0]
    monkeypatch.setattr(outcomes.time, "monotonic", lambda: now[0])
    files = {i: SimpleNamespace(result_pickle=tmp_path / i) for i in "ab"}
    jobs = [
        SimpleNamespace(job_id=i, paths=paths, done=lambda force_check: True)
        for i, paths in files.items()
    ]
    ended: dict[str, float] = {}
    assert not any(outcomes.settled(job, ended, grace_s=15) for job in jobs)
    now[0] += 14.9
    (tmp_path / "b").touch()  # b's result file shows up late, a's never does
    assert [outcomes.settled(job, ended, grace_s=15) for job in jobs] == [False, True]
    now[0] += 0.1
    assert outcomes.settled(jobs[0], ended, grace_s=15)
    # The grace spent, submitit is not to wait once more for a's file.
    assert jobs[0]._results_timeout_s == 0


def test_a_job_seen_ended_while_slurm_requeues_it_is_not_counted_failed(tmp_path, monkeypatch):
    now = [100.0]
    monkeypatch.setattr(outcomes.time, "monotonic", lambda: now[0])
    states = iter([False, True])  # asked again after the grace: pending, later ended for good
    job = SimpleNamespace(
        job_id="a",
        paths=SimpleNamespace(result_pickle=tmp_path / "a"),
        done=lambda force_check: next(states),
    )
    ended: dict[str, float] = {}
    assert not outcomes.settled(job, ended, grace_s=5)
    now[0] += 5
    assert not outcomes.settled(job, ended, grace_s=5) and ended == {}
    # Seen ended again: a whole grace of its own before it counts as failed.
    assert not outcomes.settled(job, ended, grace_s=5)
    now[0] += 5
    assert outcomes.settled(job, ended, grace_s=5)


def stand_ins(root: Path, states: str) -> dict[str, str]:
    """An environment with `srun`, `sbatch` and `sacct` stand-ins first on PATH: `sbatch`
    answers as Slurm does and submits nothing; `sacct` prints the `states` rows (id|state)."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    answers = {
        "srun": "exit 0",
        "sbatch": 'echo "Submitted batch job 4242"',
        "sacct": rf"printf 'JobID|State|NodeList\n{states}'",
    }
    for name, body in answers.items():
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch) -> Path:
    """Slurm stand-ins on PATH, whose `sacct` says the array's job 0 runs and job 1 has
    completed."""
    env = stand_ins(tmp_path, r"4242_0|RUNNING|n1\n4242_1|COMPLETED|n2\n")
    monkeypatch.setenv("PATH", env["PATH"])
    return tmp_path


def test_a_multirun_whose_slurm_job_failed_ends_with_one_line_naming_it(tmp_path, mnist_raw):
    env = stand_ins(tmp_path, r"4242|FAILED|n1\n")
    cmd = [sys.executable, "-m", "lottery_init.train", "--multirun", "seed=0,1", *TINY]
    cmd += ["hydra/launcher=population", "hydra.launcher.executor=slurm", "report=false"]
    cmd += ["hydra.launcher.slurm.gpus_per_node=0", f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    cmd += ["hydra.launcher.slurm.result_grace_s=0"]  # the stand-in job leaves no result file
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "population 1/1 (job 4242): failed; the end of" in done.stdout
    # Hydra prints the failure itself, not the launcher's traceback, which tells nothing.
    assert "Traceback" not in done.stderr
    message = "population 1/1 failed as job 4242: it ended without a result (state FAILED"
    assert message in done.stderr.splitlines()[1]


def test_the_slurm_job_array_carries_the_configured_sbatch_options(fake_slurm, mnist_raw):
    settings = slurm_settings(
        "hydra.launcher.slurm.partition=gpu",
        "hydra.launcher.slurm.account=lab",
        "+hydra.launcher.slurm.additional_parameters.mail-type=END",
    )
    ex = submission.executor("slurm", fake_slurm / "submitit" / "%j", settings)
    pops = [population(fake_slurm, name, (0,)) for name in ("a", "b", "c")]
    jobs = submission.submit(ex, pops, cpus=4)
    assert [job.job_id for job in jobs] == ["4242_0", "4242_1", "4242_2"]
    script = (fake_slurm / "submitit" / "4242" / "4242_submission.sh").read_text()
    for option in (
        "--array=0-2%3",
        "--partition=gpu",
        "--account=lab",
        "--gpus-per-node=1",
        "--cpus-per-task=4",
        "--mem=32GB",
        "--time=240",
        "--signal=USR2@120",
        "--mail-type=END",
        "--job-name=lottery_init",
    ):
        assert f"#SBATCH {option}\n" in script, option
    assert "submitit.core._submit" in script


def test_runs_that_a_slurm_job_still_trains_are_not_submitted_again(fake_slurm, mnist_raw):
    folder = str(fake_slurm / "submitit" / "%j")
    ex = submission.executor("slurm", folder, slurm_settings())
    pops = [population(fake_slurm, name, (0,)) for name in ("a", "b")]
    submission.record(fake_slurm / "submitit", submission.submit(ex, pops, cpus=4), pops)
    both = [*pops[0].run_dirs, *pops[1].run_dirs]
    with pytest.raises(CompactHydraException, match=r"still train .*: 4242_0 \(RUNNING\)\. Wait"):
        running.refuse_if_still_active(fake_slurm / "submitit", folder, both)
    # Job 1, which trained b, has completed: b alone may be submitted again.
    running.refuse_if_still_active(fake_slurm / "submitit", folder, pops[1].run_dirs)


def test_a_gpu_jobs_population_is_as_many_members_as_fit_its_gpu():
    cfg = composed("hydra/launcher=population", "hydra.launcher.executor=slurm")
    launcher = instantiate(cfg.hydra.launcher)
    jobs = [compose()]  # the default trainer: a GPU where the job gets one
    members = MemoryFit(None, 0.25).for_jobs(jobs).members(80 * 2**30)
    # The study's whole grid (88 runs) fits one 80 GiB GPU.
    assert launcher._place(jobs).cap == members > 88
    launcher.slurm.gpus_per_node = 0
    assert launcher._place(jobs).cap == 11
    launcher.max_population = 40
    assert launcher._place(jobs).cap == 40


def test_members_that_fit_leave_the_margin_free():
    assert members_that_fit(100 * 2**20, member_mib=10, margin=0.2) == 8
    assert members_that_fit(2**20, member_mib=10, margin=0.2) == 1


def test_each_launch_estimates_its_members_from_its_own_jobs():
    launcher = instantiate(composed("hydra.launcher.executor=slurm").hydra.launcher)
    small = launcher._place([compose()]).cap
    assert launcher._place([compose(["model=conv2"])]).cap < small
    assert launcher._place([compose()]).cap == small
