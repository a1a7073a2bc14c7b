"""A real `--multirun` through Hydra's basic launcher, in a subprocess."""

import subprocess
import sys

from helpers import TINY

from lottery_init.config import ROOT
from lottery_init.results import read_metrics, read_run


def test_two_inits_by_two_seeds_give_four_run_folders(tmp_path, mnist_raw):
    overrides = ["init=xavier_normal,kaiming_uniform", "seed=0,1", "epochs=1"]
    overrides += ["prune.every_n_epochs=1", f"hydra.sweep.dir={tmp_path}", *TINY]
    cmd = [sys.executable, "-m", "lottery_init.train", "--multirun", *overrides]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=300)
    runs = sorted(p.parent for p in tmp_path.glob("*/run.json"))
    assert [p.name for p in runs] == [
        "0_xavier_normal_s0",
        "1_xavier_normal_s1",
        "2_kaiming_uniform_s0",
        "3_kaiming_uniform_s1",
    ]
    identities = {(read_run(p)["init"], read_run(p)["seed"]) for p in runs}
    assert len(identities) == 4
    assert all(read_run(p)["status"] == "done" and len(read_metrics(p)) == 1 for p in runs)
