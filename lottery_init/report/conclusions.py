"""Verdicts on the study's conclusions, worded from a sweep's numbers: supported, contradicted,
shown equivalent or inconclusive, and why."""

from dataclasses import dataclass

from lottery_init.report.claims import MARGIN, Claim, Pair
from lottery_init.report.statistics.t_tests import ALPHA, equivalence_seeds, seeds_needed
from lottery_init.report.summary import RoundStat


@dataclass(frozen=True)
class Verdict:
    """A conclusion's verdict in one setting: its word, its reason, and the seeds per method
    that would decide it where it is inconclusive (None where it is decided)."""

    word: str  # supported, contradicted, shown equivalent or inconclusive
    why: str
    seeds: float | None = None

    @property
    def text(self) -> str:
        """The verdict as the report's sentence."""
        return f"**{self.word.capitalize()}**: {self.why}"


def _points(x: float) -> str:
    return f"{x * 100:+.2f}"


def _at(rounds: list[RoundStat]) -> str:
    return ", ".join(f"{r.remaining:.1%}" for r in rounds) or "no round"


def sentence(pair: Pair) -> str:
    """The pair over its rounds: which test, where it is significantly ahead or behind, and
    its widest gap with confidence interval and effect size."""
    comps = [c for _, _, c in pair.rounds]
    ahead = [x for x, _, c in pair.rounds if c.p_holm < ALPHA and c.diff > 0]
    behind = [x for x, _, c in pair.rounds if c.p_holm < ALPHA and c.diff < 0]
    x, _, c = max(pair.rounds, key=lambda t: abs(t[2].diff))
    tests = sorted({c.test for c in comps})
    paired = [c.correlation for c in comps if c.paired and c.correlation == c.correlation]
    r = f", mean r of paired accuracies {sum(paired) / len(paired):.2f}" if paired else ""
    return (
        f"**{pair.a} vs {pair.b}** ({' and '.join(tests)}, n = {c.n[0]} and {c.n[1]}{r}): "
        f"{pair.a} is ahead in {sum(c.diff > 0 for c in comps)} of {len(comps)} rounds; "
        f"significantly ahead at {_at(ahead)}; significantly behind at {_at(behind)}. "
        f"Widest gap: {_points(c.diff)} points [{_points(c.ci[0])}, {_points(c.ci[1])}] at "
        f"{x.remaining:.1%} remaining, d = {c.effect:.2f}, Holm p = {c.p_holm:.3g}."
    )


def similar_verdict(pairs: list[Pair], margin: float) -> Verdict:
    """Shown equivalent when every round's TOST rejects (an intersection-union test, so no
    correction), contradicted when a round differs significantly beyond that, else why not."""
    cells = [(p, x, c, t) for p in pairs for (x, _, c), t in zip(p.rounds, p.tost, strict=True)]
    if all(t < ALPHA for *_, t in cells):
        return Verdict(
            "shown equivalent",
            f"in every round of every pair the difference lies within ±{margin * 100:.2f} "
            f"points (TOST p < {ALPHA} in each).",
        )
    differ = [(p, x) for p, x, c, t in cells if c.p_holm < ALPHA and not t < ALPHA]
    if differ:
        where = "; ".join(
            f"{p.a} vs {p.b} at {_at([x for q, x in differ if q is p])}"
            for p in pairs
            if any(q is p for q, _ in differ)
        )
        return Verdict("contradicted", f"significant differences beyond the margin: {where}.")
    open_ = [(p, x, c) for p, x, c, t in cells if not t < ALPHA]
    needed = max(equivalence_seeds(c.sd, margin, c.paired) for *_, c in open_)
    where = ", ".join(f"{p.a} vs {p.b} at {x.remaining:.1%}" for p, x, _ in open_[:6])
    more = f" and {len(open_) - 6} more" if len(open_) > 6 else ""
    return Verdict(
        "inconclusive",
        f"no round differs significantly, but equivalence within ±{margin * 100:.2f} points "
        f"is not shown in {len(open_)} of {len(cells)} round comparisons ({where}{more}): too "
        f"noisy for this margin. About {needed} seeds per method would show equivalence there "
        "with 80% power if the methods are equal.",
        needed,
    )


def better_verdict(pairs: list[Pair]) -> Verdict:
    """Supported or contradicted by significant rounds that all point one way, else why not."""
    comps = [c for p in pairs for _, _, c in p.rounds]
    wins = sum(c.p_holm < ALPHA and c.diff > 0 for c in comps)
    losses = sum(c.p_holm < ALPHA and c.diff < 0 for c in comps)
    first = "the first method of a pair is significantly"
    if wins and not losses:
        return Verdict("supported", f"{first} ahead in {wins} round(s) and never behind.")
    if losses and not wins:
        return Verdict("contradicted", f"{first} behind in {losses} round(s) and never ahead.")
    if wins and losses:
        both = f"significant results go both ways ({wins} ahead, {losses} behind)."
        return Verdict("inconclusive", both)
    widest = max(comps, key=lambda c: abs(c.diff))
    needed = seeds_needed(widest.sd, widest.diff, widest.paired)
    return Verdict(
        "inconclusive",
        f"no round differs significantly. Detecting the widest gap seen "
        f"({_points(widest.diff)} points) with 80% power would take about {needed} seeds "
        "per method.",
        needed,
    )


def verdict(claim: Claim, pairs: list[Pair], margin: float) -> Verdict:
    """The claim's verdict over its judged pairs (at least one)."""
    return similar_verdict(pairs, margin) if claim.kind == "similar" else better_verdict(pairs)


def claim_section(
    number: int, claim: Claim, pairs: list[Pair], stats: list[RoundStat], margin: float
) -> list[str]:
    """One conclusion: its wording and range, a sentence per pair, and the verdict."""
    lines = ["", f"### {number}. {claim.wording}", "", f"Judged {claim.range_text}.", ""]
    inits = {s.init for s in stats}
    if not any(a in inits and b in inits for a, b in claim.pairs):
        return [*lines, "The sweep has none of the methods this conclusion compares."]
    if not pairs:
        return [*lines, "The sweep has no round in this range."]
    lines += [f"- {sentence(p)}" for p in pairs]
    return [*lines, "", verdict(claim, pairs, margin).text]


def conclusions(
    stats: list[RoundStat], judged: list[tuple[Claim, list[Pair]]], margin: float = MARGIN
) -> str:
    """A markdown section: for each conclusion (judged by `claims.judge_all` at `margin`), its
    pairs' sentences and a verdict."""
    lines = [
        "## The study's conclusions, checked",
        "",
        "Per pair and round: the difference of round-end test accuracy (first minus second, in "
        "points) with its 95% confidence interval and standardized effect d, from a paired "
        "t-test over the seeds both methods ran (same seed: same data order and, within a "
        "distribution family, the same standard draws), or Welch's test where seeds do not "
        f"pair. Holm's correction is over the pair's rounds in the claim's range; significant "
        f'means p < {ALPHA}. "Similar" is judged by two one-sided tests (TOST) against a '
        f"margin of ±{margin * 100:.2f} points.",
    ]
    for number, (claim, pairs) in enumerate(judged, 1):
        lines += claim_section(number, claim, pairs, stats, margin)
    return "\n".join(lines) + "\n"
