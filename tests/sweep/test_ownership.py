"""One owner per run: a second command on a folder never trains what the first one trains."""

import signal
import socket
import subprocess
import sys
import time

import pytest
from helpers import TINY

from lottery_init.config.compose import compose
from lottery_init.config.paths import ROOT
from lottery_init.runs.layout import OWNER
from lottery_init.runs.results import read_run
from lottery_init.sweep.ownership import Unlocked, claim, own_run
from lottery_init.training.population import train

GRID = ["init=xavier_normal,kaiming_uniform", "seed=0,1", "epochs=5", "report=false"]
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
    # Paused, it still holds its folders, however fast it would have trained them.
    first.send_signal(signal.SIGSTOP)
    second = multirun(tmp_path)
    said, _ = second.communicate(timeout=120)
    first.send_signal(signal.SIGCONT)
    assert second.returncode == 0, said[-2000:]
    left = f"Left 4 run(s) to the processes training them: {', '.join(NAMES)}"
    assert f"{left} ({socket.gethostname()}, process {first.pid})" in said
    assert "population 1/1" not in said  # it trained nothing
    console, _ = first.communicate(timeout=300)
    assert first.returncode == 0, console[-2000:]
    assert all(read_run(tmp_path / name)["status"] == "done" for name in NAMES)


def holding(folder, seconds: float = 60) -> subprocess.Popen:
    """Another process that holds `folder`'s lock for `seconds` (returned once it does)."""
    # The holder keeps its lock object: a lock let go of is released.
    code = (
        f"from lottery_init.sweep.ownership import claim; held = claim({str(folder)!r}); print(1)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-u", "-c", f"{code}; import time; time.sleep({seconds})"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "1"
    return holder


def test_a_single_run_in_a_folder_another_process_trains_stops_before_training(tmp_path):
    holder = holding(tmp_path)
    try:
        with pytest.raises(ValueError) as error:
            own_run(tmp_path, compose(TINY))
    finally:
        holder.kill()
        holder.wait()
    who = f"{socket.gethostname()}, process {holder.pid}"
    assert str(error.value).startswith(f"{tmp_path} is being trained by {who}; wait for it")


def test_a_single_run_never_resumes_a_run_of_another_config(tmp_path, mnist_raw):
    overrides = [*TINY, "epochs=1", "prune.every_n_epochs=1"]
    train(compose(overrides), tmp_path)
    with pytest.raises(ValueError) as error:
        own_run(tmp_path, compose([*overrides, "lr=0.01"]))
    assert "holds a run of another config (lr: 0.0012 there, 0.01 now)" in str(error.value)
    assert "Resume a run with the command that started it" in str(error.value)
    lock = own_run(tmp_path, compose(overrides))  # the same config resumes
    lock.release()


def test_a_killed_owner_leaves_its_folder_free(tmp_path):
    holder = holding(tmp_path)
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


def test_a_claim_that_waits_gets_the_folder_when_its_owner_ends(tmp_path):
    holder = holding(tmp_path, seconds=1)
    start = time.monotonic()
    lock = claim(tmp_path, wait=True)  # as hydra.sweeper.wait_for_owners=true does
    # It returned once the owner had ended, a second after taking the folder.
    assert time.monotonic() - start > 0.5 and lock is not None
    lock.release()
    holder.wait()
