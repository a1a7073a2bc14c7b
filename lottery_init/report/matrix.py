"""The verdict matrix: each of the study's conclusions in each setting of a sweep, one row per
setting, with the widest gap seen and the seeds that would decide an open verdict."""

from lottery_init.report.claims import CLAIMS, Claim, Pair
from lottery_init.report.conclusions import verdict

# Short column heads, in the order of `claims.CLAIMS`.
HEADS = ("1. normal ≈ uniform", "2. narrower > wider", "3. Xavier > Kaiming (≤ 3.5%)")


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
    seeds = "> 10,000" if judged.seeds >= 10_000 else f"{judged.seeds:,.0f}"
    return f"{text}; ~{seeds} seeds"


def verdict_matrix(
    judged: dict[str, list[tuple[Claim, list[Pair]]]], margin: float, seeds: dict[str, int]
) -> list[str]:
    """Markdown lines: the matrix over settings (`judged`: each setting's name to its claims
    and judged pairs, in the order of `CLAIMS`; `seeds`: each setting's seeds)."""
    lines = [
        "## Verdict matrix: the study's conclusions in every setting",
        "",
        "Each cell: the conclusion's verdict in that setting (as in the setting's report), its "
        "widest gap in test accuracy between a pair's first and second method (points, and the "
        "weights remaining where it was seen), and where inconclusive about how many seeds per "
        "method would decide it (80% power). Not tested: the setting has none of the "
        "conclusion's pairs, or no round in its range.",
        "",
        f"| setting | seeds | {' | '.join(HEADS[: len(CLAIMS)])} |",
        "|---|---|" + "---|" * len(CLAIMS),
    ]
    for name, claims in judged.items():
        cells = " | ".join(cell(claim, pairs, margin) for claim, pairs in claims)
        lines.append(f"| {name} | {seeds[name]} | {cells} |")
    return [*lines, ""]
