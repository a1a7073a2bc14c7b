"""What a user sees: a plain line per epoch through a pipe, and nothing printed unasked."""

import re
import subprocess
import sys

from lottery_init.config import ROOT

RUN = ["data.train_size=600", "data.test_size=200", "trainer=cpu", "epochs=3"]
RUN += ["prune.every_n_epochs=1"]


def test_a_run_through_a_pipe_prints_one_line_per_epoch_its_table_and_folder(tmp_path, mnist_raw):
    cmd = [sys.executable, "-m", "lottery_init.train", *RUN, f"hydra.run.dir={tmp_path}"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in epochs] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert re.fullmatch(r"epoch 2/3: test/acc \d+\.\d\d%, remaining 80\.0%, \d+\.\d s", epochs[1])
    table = ["round  remaining  test_acc", *(f"{r:>5}  " for r in range(3))]
    rest = lines[len(epochs) :]
    assert [line[: len(start)] for line, start in zip(rest, table, strict=False)] == table
    # Nothing else: no tips, device banners, deprecation warnings or validation bars.
    assert rest[4:] == [f"run folder: {tmp_path}"]
