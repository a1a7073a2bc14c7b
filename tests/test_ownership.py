"""One owner per run: a second command on a folder never trains what the first one trains."""

import os
import signal
import socket
import subprocess
import sys
import time

from helpers import TINY

from lottery_init.config import ROOT, compose
from lottery_init.ownership import OWNER, Unlocked, claim
from lottery_init.results import read_run
from lottery_init.train import train

# Long enough (about 20 s here) for a second command to start while the first one trains.
GRID = ["init=xavier_normal,kaiming_uniform", "seed=0,1", "epochs=40", "report=false"]
NAMES = ["xavier_normal_s0", "xavier_normal_s1", "kaiming_uniform_s0", "kaiming_uniform_s1"]


def multirun(sweep_dir, *args: str) -> subprocess.Popen:
    """A `--multirun` of the 2 x 2 grid into `sweep_dir`, its console in a pipe."""
    cmd = [sys.executable, "-m", "lottery_init.train", "--multirun", *GRID, *TINY, *args]
    cmd.append(f"hydra.sweep.dir={sweep_dir}")
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def test_a_second_sweep_on_the_same_folder_leaves_the_runs_the_first_one_trains(
    tmp_path, mnist_raw
):
    first = multirun(tmp_path)
    deadline = time.monotonic() + 120
    # The first sweep owns its folders once each names it.
    while not all((tmp_path / name / OWNER).exists() for name in NAMES):
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    second = multirun(tmp_path)
    said, _ = second.communicate(timeout=120)
    assert second.returncode == 0, said[-2000:]
    left = f"Left 4 run(s) to the processes training them: {', '.join(NAMES)}"
    assert f"{left} ({socket.gethostname()}, process {first.pid})" in said
    assert "population 1/1" not in said  # it trained nothing
    console, _ = first.communicate(timeout=300)
    assert first.returncode == 0, console[-2000:]
    assert all(read_run(tmp_path / name)["status"] == "done" for name in NAMES)


def test_a_single_run_in_a_folder_another_process_trains_stops_before_training(tmp_path):
    lock = claim(tmp_path)
    try:
        cmd = [sys.executable, "-m", "lottery_init.train", *TINY, f"hydra.run.dir={tmp_path}"]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        lock.release()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    holder = f"{socket.gethostname()}, process {os.getpid()}"
    assert f"{tmp_path} is being trained by {holder}; wait for it to end" in done.stderr
    assert not (tmp_path / "metrics.csv").exists()


def test_a_single_run_never_resumes_a_run_of_another_config(tmp_path, mnist_raw):
    overrides = [*TINY, "epochs=1", "prune.every_n_epochs=1"]
    train(compose(overrides), tmp_path)
    cmd = [sys.executable, "-m", "lottery_init.train", *overrides, "lr=0.01"]
    done = subprocess.run(
        [*cmd, f"hydra.run.dir={tmp_path}"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "holds a run of another config (lr: 0.0012 there, 0.01 now)" in done.stderr
    assert "Resume a run with the command that started it" in done.stderr
    assert read_run(tmp_path)["config"]["lr"] == 0.0012


def test_a_killed_owner_leaves_its_folder_free(tmp_path):
    # The holder keeps its lock object: a lock let go of is released.
    code = f"from lottery_init.ownership import claim; held = claim({str(tmp_path)!r}); print(1)"
    holder = subprocess.Popen(
        [sys.executable, "-u", "-c", f"{code}; import time; time.sleep(60)"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "1"
    assert claim(tmp_path) is None
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lock = claim(tmp_path)
    assert lock is not None
    lock.release()


def test_a_folder_this_process_holds_it_may_claim_again(tmp_path):
    # As a run that Hydra's basic launcher trains in the sweep's own process does.
    lock = claim(tmp_path)
    try:
        again = claim(tmp_path)
        assert isinstance(again, Unlocked)
    finally:
        lock.release()
