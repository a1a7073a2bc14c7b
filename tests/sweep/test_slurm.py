"""Sweeps on a real Slurm cluster (scripts/local_slurm.sh starts a one-node one): submitted,
preempted, cancelled, started twice, failed; skipped where no cluster answers."""

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TINY, rows, wait_for_rows

from lottery_init.config.paths import ROOT
from lottery_init.runs.layout import JOBS_RECORD, SUBMITIT

pytestmark = pytest.mark.slurm

# Two init methods by two seeds, as two populations of two, each one job of one array on one
# CPU. Forty epochs (about four seconds) leave time to signal a job once it has trained two.
GRID = ["init=xavier_normal,kaiming_normal", "seed=0,1", "hydra.launcher.max_population=2"]
SETTINGS = [*TINY, "epochs=40", "prune.every_n_epochs=8", "checkpoint.every_seconds=1000"]
SETTINGS += ["report=false"]
ON_SLURM = ["hydra.launcher.executor=slurm", "hydra.launcher.slurm.gpus_per_node=0"]
ON_SLURM += ["hydra.launcher.slurm.cpus_per_task=1", "hydra.launcher.slurm.mem=2GB"]
# A cancelled job's result file never comes; on this machine's own filesystem a finished job's
# is there at once. Longer than a requeue's passing states, which submitit counts as ended.
ON_SLURM += ["hydra.launcher.slurm.time=10", "hydra.launcher.slurm.result_grace_s=5"]
# The name scripts/local_slurm.sh gives its cluster.
CLUSTER = "lottery_init"
RUNS = ["kaiming_normal_s0", "kaiming_normal_s1", "xavier_normal_s0", "xavier_normal_s1"]


def sweep_command(folder: Path, *overrides: str) -> list[str]:
    """The sweep of `GRID` into `folder`, with `overrides`."""
    cmd = [sys.executable, "-m", "lottery_init.train", "--multirun", *GRID, *SETTINGS]
    return [*cmd, *overrides, f"hydra.sweep.dir={folder}"]


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def start(cmd: list[str]) -> subprocess.Popen:
    """`cmd` started in the background, its output (both streams) collected as text."""
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.fixture(scope="module")
def cluster() -> None:
    """The one-node cluster of scripts/local_slurm.sh, or a skip that says how to start it."""
    how = "scripts/local_slurm.sh start (as root) starts it"
    try:
        config = run(["scontrol", "show", "config"])
    except FileNotFoundError:
        pytest.skip(f"no Slurm client here for the test cluster; {how}")
    name = re.search(r"^ClusterName\s*=\s*(\S+)", config.stdout, re.MULTILINE)
    if config.returncode != 0 or name is None:
        pytest.skip(f"no Slurm cluster answers ({config.stderr.strip()}); {how}")
    # Never a real cluster's queue: these tests submit jobs, cancel them and signal them.
    if name[1] != CLUSTER:
        pytest.skip(f"the Slurm tests submit only to the test cluster {CLUSTER}, not {name[1]}")
    if not {"idle", "mixed"} & set(run(["sinfo", "-h", "-o", "%T"]).stdout.split()):
        pytest.skip(f"the test cluster {CLUSTER} has no node that takes jobs; {how}")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, mnist_raw) -> dict[str, list[str]]:
    """Each run's metrics rows from the in-process population launcher."""
    folder = tmp_path_factory.mktemp("in_process")
    done = run(sweep_command(folder))
    assert done.returncode == 0, done.stderr[-3000:]
    return {name: rows(folder / name) for name in RUNS}


def job_ids(folder: Path) -> list[str]:
    """The sweep's Slurm job ids, as its record holds them."""
    path = folder / Path(SUBMITIT).parent / JOBS_RECORD
    return sorted(json.loads(path.read_text())) if path.exists() else []


def wait_for_epochs(folder: Path, epochs: int, process: subprocess.Popen) -> list[str]:
    """Once every run of `folder` has `epochs` epochs on disk: the sweep's job ids."""
    for name in RUNS:
        wait_for_rows(process, folder / name, epochs + 1)  # the header is a row too
    return job_ids(folder)


def slurm_job(job_id: str) -> dict[str, str]:
    """`scontrol show job`'s fields of a job (kept for MinJobAge after it ends)."""
    shown = run(["scontrol", "show", "job", job_id]).stdout
    return dict(re.findall(r"(\w+)=(\S*)", shown))


def assert_same_numbers(folder: Path, reference: dict[str, list[str]]) -> None:
    for name in RUNS:
        assert rows(folder / name) == reference[name], name


def scancel(*args: str) -> None:
    subprocess.run(["scancel", *args], check=True, timeout=60)


def test_a_preempted_slurm_sweep_requeues_each_job_once_and_ends_with_the_in_process_numbers(
    tmp_path, cluster, reference
):
    sweep = start(sweep_command(tmp_path, *ON_SLURM))
    first, second = wait_for_epochs(tmp_path, 2, sweep)
    # One array of two jobs.
    assert first.split("_")[0] == second.split("_")[0]
    # Slurm's warning before a time limit or preemption, to the job steps (not the batch shell):
    # submitit's signal, and SIGUSR1, which many clusters send and Lightning would requeue on.
    scancel("--signal=USR2", first)
    scancel("--signal=USR1", second)
    out = sweep.communicate(timeout=600)[0]
    assert sweep.returncode == 0, out[-3000:]
    assert "Submitted 2 job(s)" in out
    for job in (first, second):
        said = [line.split(f"(job {job}): ")[1] for line in out.splitlines() if job in line]
        # Before the signal, the sweep's look at the job (every 2 s) may or may not catch it
        # queued, then running.
        assert set(said[:-3]) <= {"queued", "running"} and said[-3:] == [
            "requeued after a time limit or preemption (1 so far)",
            "running again from its checkpoint (attempt 2)",
            "done",
        ], out[-3000:]
        assert slurm_job(job)["Restarts"] == "1"
    assert_same_numbers(tmp_path, reference)


def test_cancelled_jobs_are_named_with_how_to_resume_and_the_same_command_resumes_them(
    tmp_path, cluster, reference
):
    cmd = sweep_command(tmp_path, *ON_SLURM)
    sweep = start(cmd)
    first, second = wait_for_epochs(tmp_path, 2, sweep)
    scancel(first.split("_")[0])  # the whole array: SIGTERM to every job, as a user's scancel
    out = sweep.communicate(timeout=600)[0]
    assert sweep.returncode == 1
    (ending,) = [line for line in out.splitlines() if line.startswith("2 of 2 population(s)")]
    assert ending.startswith("2 of 2 population(s) failed: population 1/2 failed as job ")
    assert "(state CANCELLED" in ending and "run the same command again" in ending
    again = run(cmd)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "2 population(s) to resume" in again.stdout
    assert_same_numbers(tmp_path, reference)


def test_a_second_sweep_on_a_folder_whose_jobs_run_trains_nothing_twice(tmp_path, cluster):
    # Far longer than the test: its jobs must outlive two more sweep commands' start-ups, however
    # slow, and are cancelled at its end.
    cmd = sweep_command(tmp_path, *ON_SLURM, "epochs=4000", "prune.every_n_epochs=800")
    sweep = start(cmd)
    ids = wait_for_epochs(tmp_path, 2, sweep)
    try:
        the_folders_jobs_train_once(tmp_path, cmd, sweep, ids)
    finally:
        scancel(ids[0].split("_")[0])


def the_folders_jobs_train_once(
    folder: Path, cmd: list[str], sweep: subprocess.Popen, ids: list[str]
) -> None:
    """Two more sweeps of `cmd` into `folder` while `sweep`'s jobs `ids` run submit nothing."""
    # While the first sweep runs, its process holds the runs' folders.
    second = run(cmd)
    assert second.returncode == 0
    assert "Left 4 run(s) to the processes training them" in second.stdout
    # Once it is gone (a closed login session), Slurm's accounting knows the jobs still run.
    sweep.send_signal(signal.SIGINT)
    assert "The Slurm jobs go on" in sweep.communicate(timeout=60)[0]
    third = run(cmd)
    running = ", ".join(f"{job} (RUNNING)" for job in ids)
    assert third.returncode == 1
    assert f"Slurm jobs of this sweep still train some of its runs: {running}." in third.stderr
    # Neither submitted a job: the first sweep's two are the folder's only ones.
    assert job_ids(folder) == ids
    assert sorted(p.name for p in (folder / Path(SUBMITIT).parent).glob("[0-9]*_*")) == ids
    assert run(["squeue", "-h", "-o", "%i %T", "-j", ",".join(ids)]).stdout.split() == [
        word for job in ids for word in (job, "RUNNING")
    ]


def test_a_job_that_fails_on_its_own_is_reported_with_the_end_of_its_log(tmp_path, cluster):
    # A data folder that only the job reads: the launcher cannot know that its file is corrupt.
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(b"not CIFAR-10")
    cmd = [sys.executable, "-m", "lottery_init.train", "--multirun", "data=cifar10", *TINY]
    cmd += [f"data.data_dir={tmp_path}", *ON_SLURM, f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    done = run([*cmd, "report=false"])
    assert done.returncode == 1
    (job,) = job_ids(tmp_path / "sweep")
    log = done.stdout.split(f"population 1/1 (job {job}): failed; the end of ")[1]
    sentence = "cifar-10-binary.tar.gz does not match the official CIFAR-10 binary archive"
    assert sentence in log
    assert "Traceback" not in done.stderr
    (ending,) = [line for line in done.stderr.splitlines() if line.startswith("1 of 1 population")]
    assert ending.startswith(f"1 of 1 population(s) failed: population 1/1 failed as job {job}: ")
    assert sentence in ending
