"""The per-run files: `metrics.csv`, `run.json` and `tb/`, written during training and read back."""

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter

from lottery_init.files import atomic_write
from lottery_init.runs import board, masks_file
from lottery_init.runs.layout import METRICS, RUN_JSON, TENSORBOARD

# Each `metrics.csv` column and its TensorBoard tag.
COLUMNS = {
    "epoch": None,
    "round": "prune/round",
    "remaining": "prune/remaining",
    "train_loss": "train/loss",
    "train_acc": "train/acc",
    "test_loss": "test/loss",
    "test_acc": "test/acc",
    "seconds": "time/epoch_seconds",
}
# Added when the data module holds out a validation split.
VAL_COLUMNS = {"val_loss": "val/loss", "val_acc": "val/acc"}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write `data` as JSON, atomically."""
    atomic_write(path, json.dumps(data, indent=2).encode())


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """A run's `run.json`."""
    return json.loads((Path(run_dir) / RUN_JSON).read_text())


def read_run_or_none(run_dir: str | Path) -> dict[str, Any] | None:
    """A run's `run.json`, or None where the folder holds none (a run not yet started)."""
    return read_run(run_dir) if (Path(run_dir) / RUN_JSON).exists() else None


def read_metrics(run_dir: str | Path) -> list[dict[str, float]]:
    """A run's `metrics.csv` rows, numbers parsed."""
    with open(Path(run_dir) / METRICS, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


class RunWriter:
    """The files of one run folder: appends epochs, keeps `run.json` current.

    With `resume_epoch`, the folder keeps what it holds of its first `resume_epoch` epochs (rows,
    round table, TensorBoard events) and continues from there; without, it starts afresh. A
    member that diverged within those epochs stays `failed` and takes no further rows."""

    def __init__(
        self,
        run_dir: str | Path,
        info: dict[str, Any],
        resume_epoch: int | None = None,
        validation: bool = False,
    ) -> None:
        self.dir = Path(run_dir)
        self.columns = COLUMNS | (VAL_COLUMNS if validation else {})
        self.dir.mkdir(parents=True, exist_ok=True)
        start = resume_epoch or 0
        old = (read_run_or_none(self.dir) or {}) if start else {}
        if old.get("status") == "failed" and old.get("failed_epoch", start) < start:
            self.info, self._closed = old, True
            return
        rounds = [r for r in old.get("rounds", []) if r.get("epoch", start) < start]
        self.info, self._closed = {**info, "status": "running", "rounds": rounds}, False
        # The masks.npz arrays stay in memory, so that a round's write need not read the file.
        self._masks = masks_file.keep_rounds(self.dir, [r["round"] for r in rounds])
        write_json(self.dir / RUN_JSON, self.info)
        atomic_write(self.dir / METRICS, self._kept_rows(start).encode())
        # The rows of the round under way, for its early-stopping epoch; a resumed run reloads them.
        finished = max((r["round"] for r in rounds), default=-1)
        self._round_rows = [r for r in read_metrics(self.dir) if r["round"] > finished]
        self._csv = open(self.dir / METRICS, "a", newline="")  # noqa: SIM115
        self._rows = csv.writer(self._csv)
        # Events of epochs at or after the start, left by an interrupted run, are dropped.
        self.tb = SummaryWriter(str(self.dir / TENSORBOARD), purge_step=start)
        board.log_layout(self.tb)

    def _kept_rows(self, start: int) -> str:
        """The header and the text of the rows of epochs before `start`, byte for byte."""
        header = ",".join(self.columns) + "\r\n"
        path = self.dir / METRICS
        if not start or not path.exists():
            return header
        with open(path, newline="") as f:
            lines = f.read().splitlines(keepends=True)[1:]
        return header + "".join(line for line in lines if int(line.split(",")[0]) < start)

    def epoch(self, row: dict[str, float]) -> None:
        """Append one epoch's row to `metrics.csv` (flushed) and to TensorBoard."""
        self._rows.writerow(row[c] for c in self.columns)
        self._csv.flush()
        self._round_rows.append(row)
        for column, tag in self.columns.items():
            if tag is not None:
                self.tb.add_scalar(tag, row[column], int(row["epoch"]))

    def end_round(
        self, entry: dict[str, Any], masks: Sequence[torch.Tensor | np.ndarray] = ()
    ) -> None:
        """Record a finished round (remaining, per-layer remaining, test accuracy) in `run.json`
        and its `masks` (one per layer) in `masks.npz`; with validation, also its early-stopping
        epoch (least `val_loss`, Frankle & Carbin 2019) and the test accuracy there."""
        if masks:
            self._masks = masks_file.save_round(self.dir, entry["round"], masks, self._masks)
        if "val_loss" in self.columns and self._round_rows:
            best = min(self._round_rows, key=lambda row: row["val_loss"])
            entry = entry | {
                # Rows reloaded from metrics.csv on resume hold floats; the epoch is an integer.
                "early_stop_epoch": int(best["epoch"]),
                "early_stop_test_acc": best["test_acc"],
            }
        self._round_rows = []
        self.info["rounds"].append(entry)
        write_json(self.dir / RUN_JSON, self.info)
        board.log_round(self.tb, self.info["rounds"])

    def update(self, **fields: Any) -> None:
        """Add `fields` to `run.json`."""
        self.info |= fields
        write_json(self.dir / RUN_JSON, self.info)

    @property
    def closed(self) -> bool:
        """Whether the run has been marked `done` or `failed`."""
        return self._closed

    def close(self, status: str, reason: str | None = None, epoch: int | None = None) -> None:
        """Mark the run `done` or `failed`, with its hparams for TensorBoard's HParams table."""
        self.info["status"] = status
        if reason is not None:
            self.info["reason"] = reason
        if epoch is not None:
            self.info["failed_epoch"] = epoch
        write_json(self.dir / RUN_JSON, self.info)
        board.log_hparams(self.tb, self.info)
        self.tb.close()
        self._csv.close()
        self._closed = True
