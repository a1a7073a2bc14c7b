"""What a user sees: a plain line per epoch through a pipe, and nothing printed unasked."""

import multiprocessing
import os
import re
import subprocess
import sys

from lottery_init.config.paths import ROOT
from lottery_init.sweep.progress import SweepClock

RUN = ["data.train_size=600", "data.test_size=200", "trainer=cpu", "epochs=3"]
RUN += ["prune.every_n_epochs=1"]


def test_a_run_through_a_pipe_prints_one_line_per_epoch_its_table_and_folder(tmp_path, mnist_raw):
    # On a host with Slurm's `srun` (every login node), where Lightning would print a hint.
    srun = tmp_path / "bin" / "srun"
    srun.parent.mkdir()
    srun.write_text("#!/bin/sh\nexit 0\n")
    srun.chmod(0o755)
    env = {**os.environ, "PATH": f"{srun.parent}{os.pathsep}{os.environ['PATH']}"}
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "lottery_init.train", *RUN, f"hydra.run.dir={run_dir}"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in epochs] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert re.fullmatch(r"epoch 2/3: test/acc \d+\.\d\d%, remaining 80\.0%, \d+\.\d s", epochs[1])
    table = ["round  remaining  test_acc", *(f"{r:>5}  " for r in range(3))]
    rest = lines[len(epochs) :]
    assert [line[: len(start)] for line, start in zip(rest, table, strict=False)] == table
    # Nothing else: no tips, device banners, srun hints, deprecation warnings or validation bars.
    assert rest[4:] == [f"run folder: {run_dir}"]


def clock(total: int, parallel: int, finished: int) -> SweepClock:
    return SweepClock(total, parallel, multiprocessing.get_context("spawn").Value("i", finished))


def test_the_sweep_eta_adds_the_populations_not_yet_started_shared_over_the_devices():
    # One device: 8 populations, 2 done, this one 30 s from the end, 5 more of 60 s after it.
    assert clock(8, 1, 2).line(30, 60) == "sweep: 2/8 populations done, about 5.5 min left"
    # Two devices: 4 not yet started share them, 2 x 60 s after this one's 30 s.
    assert clock(8, 2, 2).line(30, 60) == "sweep: 2/8 populations done, about 2.5 min left"


def test_the_sweep_eta_of_the_last_populations_is_their_own():
    assert clock(4, 2, 2).line(30, 60) == "sweep: 2/4 populations done, about 0.5 min left"


def test_finished_populations_are_counted_across_worker_processes():
    shared = clock(3, 2, 0)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=shared.one_done) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert shared.finished.value == 2
