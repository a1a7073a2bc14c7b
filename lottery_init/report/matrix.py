"""The verdict matrix: each of the study's conclusions in each setting of a sweep, one row per
setting, with the widest gap seen and the seeds that would decide an open verdict."""

from dataclasses import dataclass

from lottery_init.report.claims import CLAIMS, Claim, Pair
from lottery_init.report.conclusions import verdict
from lottery_init.report.statistics.signed_rank import MIN_DIFFERING, PairTest
from lottery_init.report.statistics.t_tests import ALPHA

# Short column heads, in the order of `claims.CLAIMS`, then the stability column.
HEADS = ("1. normal ≈ uniform", "2. narrower > wider", "3. Xavier > Kaiming (≤ 3.5%)")
STEADY = "3. Xavier breaks later"
# Seeds for 80% power to detect a one-round shift in breaking rounds, by simulation
# (`python -m lottery_init.report.stability`'s noise model: 14 seeds give 79.9%, 15 82.7%).
STEADY_SEEDS = 15


def cell(claim: Claim, pairs: list[Pair], margin: float) -> str:
    """One conclusion in one setting: verdict, widest gap (first minus second method, in
    points, where it was seen) and, where inconclusive, the seeds per method it would take."""
    if not pairs:
        return "not tested"
    judged = verdict(claim, pairs, margin)
    pair, at, comp = max(
        ((p, x, c) for p in pairs for x, _, c in p.rounds), key=lambda t: abs(t[2].diff)
    )
    text = (
        f"**{judged.word}**; widest {pair.a} − {pair.b} {comp.diff * 100:+.2f} at "
        f"{at.remaining:.1%}"
    )
    if judged.seeds is None:
        return text
    # equivalence_seeds stops counting at 10,000: at or beyond it, more seeds will not decide.
    seeds = "> 10,000" if judged.seeds >= 10_000 else f"~{judged.seeds:,.0f}"
    return f"{text}; {seeds} seeds"


def steady_cell(tests: list[PairTest]) -> str:
    """The Xavier-over-Kaiming claim on stability: breaking rounds of its pairs (Wilcoxon,
    Holm over the pairs), supported where a Xavier method breaks significantly later."""
    if not tests:
        return "not tested"
    counts = "; ".join(f"{t.a} later on {t.later[0]} of {len(t.diffs)}" for t in tests)
    ahead = [t for t in tests if t.p_holm < ALPHA and t.a_later]
    behind = [t for t in tests if t.p_holm < ALPHA and not t.a_later]
    if ahead and not behind:
        return f"**supported**; {counts}"
    if behind and not ahead:
        return f"**contradicted**; {counts}"
    few = all(t.later[0] + t.later[1] < MIN_DIFFERING for t in tests)
    why = f"fewer than {MIN_DIFFERING} seeds differ" if few else "no significant shift"
    return f"**inconclusive** ({why}); {counts}; ~{STEADY_SEEDS} seeds for a one-round shift"


@dataclass(frozen=True)
class Row:
    """One setting's line of the matrix: its claims with their judged pairs (in the order of
    `CLAIMS`), its seeds, and its breaking-round tests of the Xavier-Kaiming pairs."""

    judged: list[tuple[Claim, list[Pair]]]
    seeds: int
    steady: list[PairTest]


def verdict_matrix(rows: dict[str, Row], margin: float) -> list[str]:
    """Markdown lines: the matrix over settings (`rows`: by setting name)."""
    lines = [
        "## Verdict matrix: the study's conclusions in every setting",
        "",
        "Each cell: the conclusion's verdict in that setting (as in the setting's report), its "
        "widest gap in test accuracy between a pair's first and second method (points, and the "
        "weights remaining where it was seen), and where inconclusive about how many seeds per "
        "method would decide it (80% power). The last column judges the claim's stability "
        "half on each seed's breaking round (see Stability: Wilcoxon signed-rank over seeds, "
        "Holm over the pairs; seeds per method for 80% power from its simulation). Not tested: "
        "the setting has none of the conclusion's pairs, or no round in its range.",
        "",
        f"| setting | seeds | {' | '.join(HEADS[: len(CLAIMS)])} | {STEADY} |",
        "|---|---|" + "---|" * (len(CLAIMS) + 1),
    ]
    for name, row in rows.items():
        cells = " | ".join(cell(claim, pairs, margin) for claim, pairs in row.judged)
        lines.append(f"| {name} | {row.seeds} | {cells} | {steady_cell(row.steady)} |")
    return [*lines, ""]
