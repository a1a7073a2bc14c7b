"""TensorBoard's view of a run's tickets: scalars by round, HParams metrics, a Custom Scalars
layout that opens on what a researcher compares across runs."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams

# The study's marks on its figure's remaining axis (0.8^12, 0.8^15, 0.8^18 of the weights).
MARKS = (6.9, 3.5, 1.8)
# The HParams table's metric columns: every name `summary` can return.
METRICS = [
    "summary/dense_acc",
    "summary/best_ticket_acc",
    "summary/best_ticket_remaining",
    "summary/smallest_winning_remaining",
    *(f"summary/test_acc_at_{mark}" for mark in MARKS),
]
# What sets a run apart in the HParams table besides init and seed: the dataset, the learning
# rate and the controls (random pruning, reinitialization).
HPARAMS = ("data.name", "lr", "prune.method", "prune.rewind")
# Every chart of a layout draws each run as a line, so runs are compared on one chart.
LAYOUT = {
    "tickets": {
        "test accuracy at round ends, and the dense accuracy to beat": [
            "Multiline",
            [r"^ticket/test_acc$", r"^summary/dense_acc$"],
        ],
        "weights remaining at round ends": ["Multiline", [r"^ticket/remaining$"]],
    },
    "training": {
        "test accuracy by epoch": ["Multiline", [r"^test/acc$"]],
        "weights remaining by epoch": ["Multiline", [r"^prune/remaining$"]],
    },
}


def summary(rounds: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """What a run is ranked by, from its round table so far: dense accuracy, the best ticket
    (pruned round) and its weights remaining, the smallest remaining fraction that is still a
    winning ticket (accuracy at least the dense one, Frankle & Carbin 2019), and the accuracy
    at each of MARKS that the run has reached (remaining rounded to 0.1%). A run pruned at
    initialization has no dense round, so neither a dense accuracy nor a winning ticket."""
    values = {}
    pruned = [r for r in rounds if r["remaining"] < 1]
    if pruned:
        best = max(pruned, key=lambda r: r["test_acc"])
        values["summary/best_ticket_acc"] = best["test_acc"]
        values["summary/best_ticket_remaining"] = best["remaining"]
    if rounds[0]["remaining"] == 1:
        dense = values["summary/dense_acc"] = rounds[0]["test_acc"]
        winning = [r["remaining"] for r in rounds if r["test_acc"] >= dense]
        values["summary/smallest_winning_remaining"] = min(winning)
    for mark in MARKS:
        at = [r["test_acc"] for r in rounds if round(100 * r["remaining"], 1) == mark]
        if at:
            values[f"summary/test_acc_at_{mark}"] = at[0]
    return values


def log_round(tb: SummaryWriter, rounds: Sequence[Mapping[str, Any]]) -> None:
    """The round that just ended, with the round as the step: its ticket's test accuracy and
    weights remaining, and the summary as known so far (so each summary is a line over rounds
    whose last point is the run's, which the HParams table shows)."""
    step = int(rounds[-1]["round"])
    tb.add_scalar("ticket/test_acc", rounds[-1]["test_acc"], step)
    tb.add_scalar("ticket/remaining", rounds[-1]["remaining"], step)
    for tag, value in summary(rounds).items():
        tb.add_scalar(tag, value, step)
    tb.flush()


def log_weights(tb: SummaryWriter, prefix: str, layers: Sequence[np.ndarray], step: int) -> None:
    """A histogram per layer of `layers`' finite values, tagged `<prefix>/layer_<n>`; a layer
    with none (every weight pruned, or a member whose weights overflowed) gets no histogram."""
    for index, values in enumerate(layers):
        finite = np.isfinite(values)
        # The values are copied only when some are not finite (a diverged member's weights).
        values = values if finite.all() else values[finite]
        if values.size:
            # 100 equal bins over the values' range: TensorBoard's fixed buckets end at 1e20,
            # and a diverged member's weights can lie beyond (then its binning finds none).
            tb.add_histogram(f"{prefix}/layer_{index + 1}", values, step, bins=100)


def log_layout(tb: SummaryWriter) -> None:
    """The Custom Scalars layout (each run writes the same one; TensorBoard merges them)."""
    tb.add_custom_scalars(LAYOUT)


def log_hparams(tb: SummaryWriter, info: Mapping[str, Any]) -> None:
    """A run's init, seed and protocol (HPARAMS, those its config holds) for the HParams table,
    whose metric columns are the summary scalars' last values: written as summaries only, so
    no one-point chart appears."""
    values = {"init": info["init"], "seed": info["seed"]}
    for key in HPARAMS:
        value = info.get("config", {})
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None:
            values[key] = value
    # The metric values given here are not written; TensorBoard reads the summary scalars.
    experiment, start, end = hparams(values, dict.fromkeys(METRICS, 0.0))
    for event in (experiment, start, end):
        tb.file_writer.add_summary(event)
    tb.flush()
