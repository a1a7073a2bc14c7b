"""The population launcher against Hydra's basic launcher and the submitit plugin."""

import re
import signal
import subprocess
import sys
import time

import pytest
from helpers import TINY, composed, rows

from lottery_init.config.paths import ROOT
from lottery_init.runs.results import COLUMNS, read_metrics, read_run

GRID = ["init=xavier_normal,kaiming_uniform", "seed=0,1", "epochs=2", "prune.every_n_epochs=1"]
# In launch order; folders are named by init and seed (`lottery_init.sweep.folders.job_name`).
JOBS = ["xavier_normal_s0", "xavier_normal_s1", "kaiming_uniform_s0", "kaiming_uniform_s1"]
# The population launcher with each population a submitit job on this machine (one CPU thread
# each, as the local launcher's two workers have), two members per population.
SUBMITIT = ["hydra/launcher=population", "hydra.launcher.executor=submitit_local"]
SUBMITIT += ["hydra.launcher.max_population=2", "hydra.launcher.slurm.gpus_per_node=0"]
SUBMITIT += ["hydra.launcher.slurm.cpus_per_task=1"]
# The files of a job folder that every launcher writes.
JOB_FILES = {".hydra/config.yaml", ".hydra/hydra.yaml", ".hydra/overrides.yaml"}
JOB_FILES |= {"masks.npz", "metrics.csv", "run.json", "train.log", "tb"}
# The lock of the process that trains the run, and who that is (lottery_init.sweep.ownership).
JOB_FILES |= {".lock", ".owner"}


def sweep(sweep_dir, *overrides: str) -> str:
    """A tiny `--multirun` of the 2 x 2 grid into `sweep_dir`, in a subprocess; its output."""
    cmd = [sys.executable, "-m", "lottery_init.train", "--multirun", *GRID, *TINY]
    cmd += [f"hydra.sweep.dir={sweep_dir}", *overrides]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def job_files(job_dir) -> set[str]:
    """The paths under a job folder, with `tb/` and `checkpoints/` counted as one entry each."""
    paths = {p.relative_to(job_dir).as_posix() for p in job_dir.rglob("*") if p.is_file()}
    return {p.split("/")[0] if p.startswith(("tb/", "checkpoints/")) else p for p in paths}


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory, mnist_raw):
    sweep_dir = tmp_path_factory.mktemp("basic")
    sweep(sweep_dir, "hydra/launcher=basic")
    return sweep_dir


@pytest.fixture(scope="module")
def population_sweep(tmp_path_factory, mnist_raw):
    """Two populations of two, trained by two worker processes on the CPU."""
    sweep_dir = tmp_path_factory.mktemp("population")
    sweep(sweep_dir, "hydra/launcher=population", "hydra.launcher.devices=[cpu,cpu]")
    return sweep_dir


@pytest.fixture(scope="module")
def submitit_sweep(tmp_path_factory, mnist_raw):
    """The population sweep's two populations, each trained as a submitit-local job."""
    sweep_dir = tmp_path_factory.mktemp("submitit")
    output = sweep(sweep_dir, *SUBMITIT)
    return sweep_dir, output


def test_population_launcher_writes_the_folders_and_files_of_the_basic_one(
    basic_sweep, population_sweep
):
    for sweep_dir in (basic_sweep, population_sweep):
        assert sorted(p.parent.name for p in sweep_dir.glob("*/run.json")) == sorted(JOBS)
    for job in JOBS:
        assert job_files(population_sweep / job) == JOB_FILES
        assert job_files(basic_sweep / job) == JOB_FILES | {"checkpoints"}


def test_population_launcher_metrics_match_the_basic_launcher(basic_sweep, population_sweep):
    for job in JOBS:
        basic, packed = read_metrics(basic_sweep / job), read_metrics(population_sweep / job)
        assert len(basic) == len(packed) == 2
        for b, p in zip(basic, packed, strict=True):
            for column in set(COLUMNS) - {"seconds"}:
                assert p[column] == pytest.approx(b[column], abs=1e-4), (job, column)


def test_population_launcher_records_each_jobs_population(population_sweep):
    infos = [read_run(population_sweep / job) for job in JOBS]
    assert all(info["status"] == "done" for info in infos)
    assert [info["population"]["runs"] for info in infos] == [JOBS[:2]] * 2 + [JOBS[2:]] * 2
    assert [info["population"]["member"] for info in infos] == [0, 1, 0, 1]
    assert (population_sweep / "populations" / JOBS[2] / "last.ckpt").is_file()


def test_each_population_epoch_logs_where_the_population_and_the_sweep_are(population_sweep):
    log = (population_sweep / JOBS[2] / "train.log").read_text()
    assert re.search(
        r"population 2/2: epoch 2/2, mean test/acc \d+\.\d\d%, \d+\.\d s/epoch, 0\.0 min left; "
        r"sweep: [01]/2 populations done, about 0\.0 min left",
        log,
    ), log


def test_submitit_populations_write_the_files_and_numbers_of_local_ones(
    population_sweep, submitit_sweep
):
    sweep_dir, _ = submitit_sweep
    for job in JOBS:
        assert job_files(sweep_dir / job) == JOB_FILES
        local, submitted = read_metrics(population_sweep / job), read_metrics(sweep_dir / job)
        assert len(local) == len(submitted) == 2
        for a, b in zip(local, submitted, strict=True):
            for column in set(COLUMNS) - {"seconds"}:
                assert b[column] == pytest.approx(a[column], abs=1e-4), (job, column)


def test_each_population_is_one_submitit_job_whose_states_are_logged(submitit_sweep):
    sweep_dir, output = submitit_sweep
    assert len(list((sweep_dir / ".submitit").glob("*/*_submitted.pkl"))) == 2
    infos = [read_run(sweep_dir / job) for job in JOBS]
    assert [info["population"]["runs"] for info in infos] == [JOBS[:2]] * 2 + [JOBS[2:]] * 2
    for k in (1, 2):
        # A look every 2 seconds can miss a short job's running state, not its start and end.
        states = re.findall(rf"population {k}/2 \(job \d+\): (\w+)", output)
        assert states in (["queued", "running", "done"], ["queued", "done"]), output[-3000:]


def test_rerunning_a_finished_submitit_sweep_submits_nothing(submitit_sweep):
    sweep_dir, _ = submitit_sweep
    output = sweep(sweep_dir, *SUBMITIT)
    assert "4 jobs already finished, 0 population(s) to resume, 0 jobs to train" in output
    assert len(list((sweep_dir / ".submitit").glob("*/*_submitted.pkl"))) == 2


def test_submitit_local_sweep_completes_with_four_done_runs(tmp_path, mnist_raw):
    sweep(tmp_path, "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10")
    runs = sorted(p.parent.name for p in tmp_path.glob("*/run.json"))
    assert runs == sorted(JOBS)
    assert all(read_run(tmp_path / job)["status"] == "done" for job in JOBS)


@pytest.mark.parametrize("launcher", ["basic", "population"])
def test_a_bad_job_stops_the_sweep_before_any_training(tmp_path, mnist_raw, launcher):
    cmd = [sys.executable, "-m", "lottery_init.train", "--multirun", *GRID, *TINY]
    cmd += ["prune.rate=0.2,1.5", f"hydra/launcher={launcher}", f"hydra.sweep.dir={tmp_path}"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "prune.rate must lie in (0, 1), got 1.5. (job: init=xavier_normal seed=0" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.rglob("metrics.csv"))


def test_seed_paper_experiment_is_the_studys_grid_on_the_population_launcher():
    cfg = composed("experiment=seed_paper")
    assert (cfg.epochs, cfg.lr, cfg.batch_size) == (100, 0.0012, 60)
    assert (cfg.prune.rate, cfg.prune.every_n_epochs, cfg.prune.scope) == (0.2, 5, "layer")
    assert (list(cfg.model.hidden), cfg.model.negative_slope) == ([300, 100], 0.05)
    assert cfg.hydra.sweeper.params == {"init": "glob(*)", "seed": "range(11)"}
    assert cfg.hydra.launcher._target_.endswith("PopulationLauncher")


def test_rerunning_a_finished_basic_sweep_trains_nothing_again(basic_sweep):
    written = {job: (basic_sweep / job / "metrics.csv").stat().st_mtime_ns for job in JOBS}
    sweep(basic_sweep, "hydra/launcher=basic")
    assert {job: (basic_sweep / job / "metrics.csv").stat().st_mtime_ns for job in JOBS} == written


def test_a_population_sweep_killed_mid_population_resumes_to_the_same_numbers(tmp_path, mnist_raw):
    args = [*TINY, "init=xavier_normal,kaiming_uniform", "seed=0,1", "epochs=4"]
    args += [
        "prune.every_n_epochs=1",
        "checkpoint.every_seconds=0",
        "hydra/launcher=population",
        "hydra.launcher.max_population=2",
    ]

    def command(sweep_dir) -> list[str]:
        return [
            sys.executable,
            "-m",
            "lottery_init.train",
            "--multirun",
            *args,
            f"hydra.sweep.dir={sweep_dir}",
        ]

    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(command(whole), cwd=ROOT, check=True, capture_output=True, timeout=300)
    process = subprocess.Popen(
        command(killed), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    # The second population is under way once its first job has two epochs on disk.
    second = killed / JOBS[2] / "metrics.csv"
    deadline = time.monotonic() + 300
    while not second.exists() or len(second.read_text().splitlines()) < 3:
        assert process.poll() is None and time.monotonic() < deadline, (
            "the sweep ended before the kill"
        )
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (
        read_run(killed / JOBS[0])["status"] == "done"
        and read_run(killed / JOBS[2])["status"] == "running"
    )
    first_done = (killed / JOBS[0] / "metrics.csv").stat().st_mtime_ns
    done = subprocess.run(command(killed), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (
        "2 jobs already finished, 1 population(s) to resume, 0 jobs to train"
        in done.stdout + done.stderr
    )
    assert (killed / JOBS[0] / "metrics.csv").stat().st_mtime_ns == first_done
    for job in JOBS:
        assert read_run(killed / job)["status"] == "done"
        assert rows(killed / job) == rows(whole / job), job


def test_a_sweep_grown_in_its_folder_trains_only_the_new_runs_and_reports_all(tmp_path, mnist_raw):
    def grid(seeds: str) -> subprocess.CompletedProcess:
        grid = [o for o in GRID if not o.startswith("seed=")]
        cmd = [sys.executable, "-m", "lottery_init.train", "--multirun", *grid, *TINY]
        cmd += [f"seed={seeds}", "hydra/launcher=population", f"hydra.sweep.dir={tmp_path}"]
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=400)

    assert grid("0,1").returncode == 0
    written = {job: (tmp_path / job / "metrics.csv").stat().st_mtime_ns for job in JOBS}
    grown = grid("0,1,2")
    assert grown.returncode == 0, grown.stderr[-3000:]
    assert "4 jobs already finished, 0 population(s) to resume, 2 jobs to train" in grown.stdout
    assert {job: (tmp_path / job / "metrics.csv").stat().st_mtime_ns for job in JOBS} == written
    new = ["kaiming_uniform_s2", "xavier_normal_s2"]
    assert sorted(p.parent.name for p in tmp_path.glob("*/run.json")) == sorted([*JOBS, *new])
    assert "6 runs used" in (tmp_path / "report" / "report.md").read_text()
