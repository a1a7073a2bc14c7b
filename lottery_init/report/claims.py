"""The study's three conclusions, each with its wording, its pairs and its own range, and each
pair's comparisons over that range."""

from dataclasses import dataclass, field

from lottery_init.report.statistics.t_tests import Comparison, equivalence
from lottery_init.report.summary import RoundStat, pair_rounds

# Equivalence margin for "similar": 0.2 points, i.e. 20 of the 10,000 test images. The study
# calls methods "very similar" when their mean curves overlap within their error bars, and
# two-tenths of a point is below what its figure can tell apart.
MARGIN = 0.002


@dataclass(frozen=True)
class Claim:
    """One conclusion of the study: pairs (a, b) read as "a is at least as good as b" for
    `kind` "better", as "a and b perform alike" for `kind` "similar"."""

    wording: str
    kind: str
    pairs: list[tuple[str, str]]
    max_remaining: float = 1.0  # the claim covers rounds with at most this fraction remaining
    range_text: str = "over the whole run"


CLAIMS = [
    Claim(
        "Normal distributions and uniform ones have similar performance.",
        "similar",
        [
            ("xavier_normal", "xavier_uniform"),
            ("kaiming_normal", "kaiming_uniform"),
            ("xavier_normal_half", "xavier_uniform_half"),
            ("xavier_normal_double", "xavier_uniform_double"),
        ],
    ),
    Claim(
        "Distributions that are narrower around 0 outperform wider distributions.",
        "better",
        [
            ("xavier_normal_half", "xavier_normal"),
            ("xavier_uniform_half", "xavier_uniform"),
            ("xavier_normal", "xavier_normal_double"),
            ("xavier_uniform", "xavier_uniform_double"),
        ],
    ),
    Claim(
        "Xavier methods outperform Kaiming methods.",
        "better",
        [("xavier_normal", "kaiming_normal"), ("xavier_uniform", "kaiming_uniform")],
        # The study: "After the 3.5% mark" (0.8^15 remaining, the end of round 15).
        max_remaining=0.8**15,
        range_text="from 3.5% of the weights remaining down",
    ),
]


@dataclass
class Pair:
    """A claim's pair in every round of the claim's range; `tost` holds the equivalence p per
    round for "similar" claims."""

    a: str
    b: str
    rounds: list[tuple[RoundStat, RoundStat, Comparison]]
    tost: list[float] = field(default_factory=list)


def judge(stats: list[RoundStat], claim: Claim, margin: float = MARGIN) -> list[Pair]:
    """The claim's pairs present in the sweep, compared round by round over its range (Holm
    over the pair's rounds in that range)."""
    pairs = []
    for a, b in claim.pairs:
        rounds = pair_rounds(stats, a, b, claim.max_remaining)
        if not rounds:
            continue
        pair = Pair(a, b, rounds)
        if claim.kind == "similar":
            pair.tost = [equivalence(x.accs, y.accs, margin, c.paired) for x, y, c in rounds]
        pairs.append(pair)
    return pairs


def judge_all(stats: list[RoundStat], margin: float = MARGIN) -> list[tuple[Claim, list[Pair]]]:
    """Every claim with its judged pairs, in the study's order (computed once per report)."""
    return [(claim, judge(stats, claim, margin)) for claim in CLAIMS]
