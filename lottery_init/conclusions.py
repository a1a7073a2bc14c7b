"""Statements on the study's three conclusions, worded from a sweep's numbers."""

from lottery_init.summary import ALPHA, RoundStat, pair_rounds

# Each conclusion: its wording in the study and the pairs it compares, (a, b) read as "a is at
# least as good as b" for the directional ones.
CONCLUSIONS = [
    (
        "Normal distributions and uniform ones have similar performance.",
        False,
        [
            ("xavier_normal", "xavier_uniform"),
            ("kaiming_normal", "kaiming_uniform"),
            ("xavier_normal_half", "xavier_uniform_half"),
            ("xavier_normal_double", "xavier_uniform_double"),
        ],
    ),
    (
        "Distributions that are narrower around 0 outperform wider distributions.",
        True,
        [
            ("xavier_normal_half", "xavier_normal"),
            ("xavier_uniform_half", "xavier_uniform"),
            ("xavier_normal", "xavier_normal_double"),
            ("xavier_uniform", "xavier_uniform_double"),
        ],
    ),
    (
        "Xavier methods outperform Kaiming methods.",
        True,
        [("xavier_normal", "kaiming_normal"), ("xavier_uniform", "kaiming_uniform")],
    ),
]


def _percent(fractions: list[float]) -> str:
    return ", ".join(f"{f:.1%}" for f in fractions)


def compare(stats: list[RoundStat], a: str, b: str) -> tuple[str, int, int] | None:
    """One sentence on `a` against `b` over the rounds, and its significant wins and losses."""
    rounds = pair_rounds(stats, a, b)
    if not rounds:
        return None
    ahead = [x.remaining for x, y, p in rounds if p < ALPHA and x.mean > y.mean]
    behind = [x.remaining for x, y, p in rounds if p < ALPHA and x.mean < y.mean]
    leads = sum(x.mean > y.mean for x, y, _ in rounds)
    # The clearest evidence: the most significant round, or else the widest gap.
    significant = [t for t in rounds if t[2] < ALPHA]
    x, y, p = (
        min(significant, key=lambda t: t[2])
        if significant
        else max(rounds, key=lambda t: abs(t[0].mean - t[1].mean))
    )
    verb = "leads" if x.mean >= y.mean else "trails"
    label = "Most significant gap" if significant else "Widest gap (not significant)"
    ahead_text = f"at {_percent(ahead)} remaining" if ahead else "in no round"
    behind_text = f"at {_percent(behind)} remaining" if behind else "in no round"
    text = (
        f"**{a} vs {b}**: {a} is ahead in {leads} of {len(rounds)} rounds; significantly "
        f"ahead {ahead_text}, significantly behind {behind_text}. {label}: at "
        f"{x.remaining:.1%} remaining, {a} {verb} {b} by {abs(x.mean - y.mean) * 100:.2f} points "
        f"(n = {x.n} and {y.n}), p = {p:.3g}."
    )
    return text, len(ahead), len(behind)


def verdict(directional: bool, wins: int, losses: int, pairs: int) -> str:
    """How the comparisons bear on the study's claim, from the counts of significant rounds."""
    if pairs == 0:
        return "The sweep has none of the methods this conclusion compares."
    if wins + losses == 0:
        if directional:
            return "No round shows a significant difference, so the sweep cannot confirm it."
        return "No round shows a significant difference: the sweep agrees."
    if not directional:
        return f"{wins + losses} round comparison(s) differ significantly: the sweep disagrees."
    if losses == 0:
        return (
            f"The first method of a pair is significantly ahead in {wins} round comparison(s) "
            "and never behind: the sweep supports it."
        )
    if wins == 0:
        return (
            f"The first method of a pair is significantly behind in {losses} round comparison(s) "
            "and never ahead: the sweep contradicts it."
        )
    return (
        f"Significant results go both ways ({wins} ahead, {losses} behind): the evidence is mixed."
    )


def conclusions(stats: list[RoundStat]) -> str:
    """A markdown section: for each conclusion, its pairs' sentences and a verdict."""
    lines = ["## The study's conclusions, checked", ""]
    lines.append(
        "Per pair, Welch's t-test on round-end test accuracy in each round, Holm-corrected "
        f"over the rounds; significant means p < {ALPHA}."
    )
    for number, (claim, directional, pairs) in enumerate(CONCLUSIONS, 1):
        lines += ["", f"### {number}. {claim}", ""]
        found = [c for c in (compare(stats, a, b) for a, b in pairs) if c is not None]
        lines += [f"- {text}" for text, _, _ in found]
        wins, losses = sum(c[1] for c in found), sum(c[2] for c in found)
        lines += ["", verdict(directional, wins, losses, len(found))]
    return "\n".join(lines) + "\n"
