"""A real `--multirun` in a subprocess: populations by default, or Hydra's basic launcher."""

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TINY
from omegaconf import OmegaConf

from lottery_init.config.paths import ROOT
from lottery_init.report.at_sweep_end import ReportAtSweepEnd
from lottery_init.runs.results import read_metrics, read_run


def test_two_inits_by_two_seeds_give_four_run_folders(tmp_path, mnist_raw):
    overrides = ["init=xavier_normal,kaiming_uniform", "seed=0,1", "epochs=1"]
    overrides += ["prune.every_n_epochs=1", f"hydra.sweep.dir={tmp_path}", *TINY]
    overrides += ["hydra/launcher=basic"]
    cmd = [sys.executable, "-m", "lottery_init.train", "--multirun", *overrides]
    done = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, timeout=300)
    runs = sorted(p.parent for p in tmp_path.glob("*/run.json"))
    assert [p.name for p in runs] == [
        "kaiming_uniform_s0",
        "kaiming_uniform_s1",
        "xavier_normal_s0",
        "xavier_normal_s1",
    ]
    identities = {(read_run(p)["init"], read_run(p)["seed"]) for p in runs}
    assert len(identities) == 4
    assert all(read_run(p)["status"] == "done" and len(read_metrics(p)) == 1 for p in runs)
    # The sweep ends with its report.
    assert f"report: {tmp_path / 'report' / 'report.md'}" in done.stdout
    assert "4 runs used" in (tmp_path / "report" / "report.md").read_text()
    assert "Launching 4 jobs locally" in done.stdout


@pytest.fixture(scope="module")
def plain_multirun(tmp_path_factory, mnist_raw) -> tuple[Path, subprocess.CompletedProcess]:
    """A `--multirun` of two seeds with no launcher or report asked for: its folder and run."""
    folder = tmp_path_factory.mktemp("plain")
    overrides = ["seed=0,1", "epochs=1", "prune.every_n_epochs=1", "report=false", *TINY]
    cmd = [sys.executable, "-m", "lottery_init.train", "--multirun", *overrides]
    done = subprocess.run(
        [*cmd, f"hydra.sweep.dir={folder}"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    return folder, done


def test_a_multirun_trains_its_jobs_as_populations_unless_asked_otherwise(plain_multirun):
    folder, done = plain_multirun
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2 jobs to train as 1 population(s)" in done.stdout
    infos = [read_run(p.parent) for p in folder.glob("*/run.json")]
    assert [info["population"]["size"] for info in infos] == [2, 2]


def test_report_false_skips_the_report(plain_multirun):
    folder, done = plain_multirun
    assert done.returncode == 0 and "report:" not in done.stdout
    assert len(list(folder.glob("*/run.json"))) == 2 and not (folder / "report").exists()


def test_a_report_that_fails_is_logged_and_raises_nothing(tmp_path, caplog):
    config = OmegaConf.create({"report": True, "hydra": {"sweep": {"dir": str(tmp_path)}}})
    ReportAtSweepEnd().on_multirun_end(config)  # an empty folder holds no usable run
    assert f"The report of {tmp_path} was not written" in caplog.text
    assert not (tmp_path / "report").exists()
