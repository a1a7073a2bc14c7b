"""The layer-scale experiment's answer: how far moving one layer's init scale moves accuracy,
each arm against its own method's baseline, seed by seed."""

import math
from collections.abc import Mapping, Sequence

from lottery_init.report.read.keys import Arm
from lottery_init.report.statistics.t_tests import ALPHA, compare, holm
from lottery_init.report.summary import RoundStat


def arms(labels: Mapping[str, Arm]) -> list[tuple[str, str]]:
    """(arm, baseline) label pairs: every layer-scaled arm whose method has a baseline."""
    return sorted(
        (label, arm.base.label)
        for label, arm in labels.items()
        if arm.layer_scales is not None and arm.base.label in labels
    )


def differences(stats: Sequence[RoundStat], a: str, b: str) -> dict[int, tuple[float, float]]:
    """Per round both ran: the mean difference a - b (paired over common seeds) and its p,
    Holm-adjusted over the rounds."""
    by = {(s.init, s.round): s for s in stats}
    rounds = sorted(r for (label, r) in by if label == a and (b, r) in by)
    found = {r: compare(by[a, r].accs, by[b, r].accs) for r in rounds}
    found = {r: c for r, c in found.items() if c is not None}
    adjusted = holm([c.p for c in found.values()])
    return {r: (c.diff, p) for (r, c), p in zip(found.items(), adjusted, strict=True)}


def _cell(entry: tuple[float, float] | None) -> str:
    """A difference in points, starred where Holm's p is below ALPHA."""
    if entry is None:
        return ""
    diff, p = entry
    star = "*" if not math.isnan(p) and p < ALPHA else ""
    return f"{100 * diff:+.2f}{star}"


def layer_scale_section(stats: Sequence[RoundStat], labels: Mapping[str, Arm]) -> list[str]:
    """The report's layer-scale table, or nothing when the sweep has no layer-scaled arm
    (`labels`: each label's arm)."""
    columns = arms(labels)
    if not columns:
        return []
    if {"xavier_normal", "kaiming_normal"} <= {s.init for s in stats}:
        columns = [("xavier_normal", "kaiming_normal"), *columns]
    diffs = {pair: differences(stats, *pair) for pair in columns}
    remaining = {s.round: s.remaining for s in stats}
    rounds = sorted({r for d in diffs.values() for r in d})
    header = " | ".join(f"{a} − {b}" for a, b in columns)
    lines = [
        "## Layer scales: which layer's relative scale carries the difference?",
        "",
        "Each arm against its own method's baseline, per round: mean difference in round-end "
        "test accuracy (points), paired over seeds; * where Holm's p over the arm's rounds is "
        f"below {ALPHA}. An arm that moves Kaiming toward Xavier and gains as much as "
        "xavier_normal − kaiming_normal says that layer's scale carries the difference.",
        "",
        f"| round | remaining | {header} |",
        "|---|---|" + "---|" * len(columns),
    ]
    for r in rounds:
        cells = " | ".join(_cell(diffs[pair].get(r)) for pair in columns)
        lines.append(f"| {r} | {remaining[r]:.1%} | {cells} |")
    return [*lines, ""]
